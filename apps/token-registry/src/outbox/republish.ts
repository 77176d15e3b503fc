/**
 * Rebuilds `token.user-devices.v1` from the database (disaster recovery, a new cluster):
 * `npm run republish:registry -- [--app <appId>] [--batch 500] [--pause-ms 0] [--no-relay]`.
 *
 * Every user's snapshot goes into the outbox with a new version; then, unless `--no-relay`, this
 * process relays the outbox until it is empty (alongside any running service, safely). With
 * `--no-relay` only DATABASE_URL is needed and the running services publish the rows.
 */
import 'reflect-metadata';
import { loadEnv } from '@app/config';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { registryDataSourceOptions } from '../database/registry-data-source';
import { DatabaseEnvSchema, RegistryEnvSchema } from '../registry-env.schema';
import { relayProducer } from './outbox-relay.service';
import { OutboxRelay } from './outbox.relay';
import { OutboxWriter } from './outbox.writer';
import { republishAll } from './republish.job';

const log = (line: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ service: 'token-registry', ...line })}\n`);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      app: { type: 'string' },
      batch: { type: 'string', default: '500' },
      'pause-ms': { type: 'string', default: '0' },
      'no-relay': { type: 'boolean', default: false },
    },
  });
  const relay = !values['no-relay'];
  const dbEnv = loadEnv(DatabaseEnvSchema);
  const dataSource = new DataSource(registryDataSourceOptions(dbEnv));
  await dataSource.initialize();
  const writer = new OutboxWriter();
  try {
    const users = await republishAll(dataSource, writer, {
      appId: values.app,
      batchSize: Number(values.batch),
      pauseMs: Number(values['pause-ms']),
      onProgress: (done) => log({ level: 'info', msg: 'republish progress', users: done }),
    });
    log({ level: 'info', msg: 'snapshots written to the outbox', users });
    if (relay) {
      const env = loadEnv(RegistryEnvSchema);
      const outbox = new OutboxRelay(
        dataSource,
        () => relayProducer(env, `republish-${process.pid}`),
        {
          batchSize: env.REGISTRY_OUTBOX_BATCH,
          pollMs: env.REGISTRY_OUTBOX_POLL_MS,
          retentionHours: env.REGISTRY_OUTBOX_RETENTION_HOURS,
        },
      );
      let published = 0;
      for (let n = -1; n !== 0;) {
        n = await outbox.publishOnce();
        published += n;
      }
      await outbox.stop();
      log({ level: 'info', msg: 'outbox relayed', published });
    }
  } finally {
    await dataSource.destroy();
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    log({ level: 'fatal', msg: 'republish failed', err: e.message });
    process.exit(1);
  },
);
