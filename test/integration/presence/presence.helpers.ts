import type { INestApplication } from '@nestjs/common';
import { buildServiceConfig, hashApiKey } from '@app/config';
import { createServiceApp, startServiceApp } from '@app/http';
import { uniqueId } from '@app/testing';
import { TOPICS } from '@app/contracts';
import { startNewGroupAtEnd } from '@app/kafka';
import { Kafka, logLevel, type Consumer, type KafkaMessage } from 'kafkajs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PresenceAppModule } from '@apps/presence/app.module';
import { PresenceEnvSchema } from '@apps/presence/presence-env.schema';

/**
 * A tenant of this test run alone: presence instances started here know no other app, so they
 * leave the users of other engineers' tests (on the same shared topics) alone.
 */
export function writeTestApps(): { appId: string; apiKey: string; file: string } {
  const appId = uniqueId('presence-it');
  const apiKey = uniqueId('key');
  const dir = mkdtempSync(join(tmpdir(), 'presence-it-'));
  const file = join(dir, 'apps.yaml');
  writeFileSync(
    file,
    `apps:\n  - id: ${appId}\n    apiKeys: ['${hashApiKey(apiKey)}']\n    policy: { offlineAfterDays: 7 }\n`,
  );
  return { appId, apiKey, file };
}

/**
 * Starts presence in this process. A group that has never committed starts at the end of the
 * shared device-event topic (`newGroupAtEnd`, default on): otherwise every test's new group would
 * first read, and dead-letter as UNKNOWN_APP, every event other runs left there (the topic keeps a
 * week), and time-sensitive tests would race that backlog. Off for a broker that is not up yet.
 */
export async function startPresence(
  env: Record<string, string>,
  opts: { newGroupAtEnd?: boolean } = {},
): Promise<INestApplication> {
  const config = buildServiceConfig({ name: 'presence', defaultPort: 0 }, PresenceEnvSchema, {
    ...process.env,
    LOG_LEVEL: 'warn',
    ...env,
  });
  if (opts.newGroupAtEnd ?? true) {
    const admin = new Kafka({
      brokers: config.env.KAFKA_BROKERS,
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    try {
      await startNewGroupAtEnd(
        admin,
        config.env.PRESENCE_CONSUMER_GROUP,
        TOPICS.presenceDeviceEvent.name,
      );
    } finally {
      await admin.disconnect();
    }
  }
  const app = await createServiceApp(config, {
    module: (c) => PresenceAppModule.forRoot(c),
  });
  await startServiceApp(app);
  return app;
}

/** Every record of a topic whose key starts with a prefix, as it arrives (read from the start). */
export class TopicWatcher {
  readonly records: KafkaMessage[] = [];
  private consumer!: Consumer;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly keyPrefix: string,
  ) {}

  async start(): Promise<this> {
    this.consumer = this.kafka.consumer({ groupId: uniqueId('watch'), maxWaitTimeInMs: 200 });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ message }) => {
        if (message.key?.toString().startsWith(this.keyPrefix)) this.records.push(message);
      },
    });
    return this;
  }

  forKey(key: string): KafkaMessage[] {
    return this.records.filter((m) => m.key?.toString() === key);
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}
