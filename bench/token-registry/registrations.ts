/**
 * Registrations per second and latency of `PUT .../devices/{deviceId}`'s transaction (lock and bump
 * the user, release the token, upsert the device, read the devices, append the snapshot to the
 * outbox), with the database round trips per registration counted, against a baseline run in the
 * same invocation: a bare single-row `INSERT ... ON CONFLICT DO UPDATE` through `pg`.
 *
 *   npx tsx bench/token-registry/registrations.ts [--seconds 8] [--concurrency 1,16]
 *
 * HTTP parsing and the relay are not included (the relay is a separate, batched loop). Loopback
 * PostgreSQL only; bench rows are deleted at the end.
 */
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { buildServiceConfig } from '@app/config';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'pg';
import { DataSource, type Logger as TypeOrmLogger } from 'typeorm';
import { migrateRegistry } from '../../apps/token-registry/src/database/migrate';
import { registryDataSourceOptions } from '../../apps/token-registry/src/database/registry-data-source';
import { DevicesRepository } from '../../apps/token-registry/src/devices/devices.repository';
import { DevicesService } from '../../apps/token-registry/src/devices/devices.service';
import { OutboxWriter } from '../../apps/token-registry/src/outbox/outbox.writer';
import { RegistryEnvSchema } from '../../apps/token-registry/src/registry-env.schema';
import { UsersRepository } from '../../apps/token-registry/src/users/users.repository';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '1,16' },
  },
});
const SECONDS = Math.min(Number(values.seconds), 12);
const CONCURRENCY = values.concurrency.split(',').map(Number);
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://push:push@127.0.0.1:5432/push';
const POOL = 10;

/** Counts every statement TypeORM sends (BEGIN and COMMIT included): one per round trip. */
class CountingLogger implements TypeOrmLogger {
  queries = 0;
  logQuery(): void {
    this.queries++;
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

interface Result {
  ops: number;
  seconds: number;
  p50: number;
  p99: number;
  roundTrips: number;
}

/** Runs `op` from `concurrency` loops for `seconds`; latencies in ms. */
async function measure(
  concurrency: number,
  op: (i: number) => Promise<void>,
  countRoundTrips: () => number,
): Promise<Result> {
  const latencies: number[] = [];
  const before = countRoundTrips();
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  let i = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        await op(i++);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return {
    ops: latencies.length,
    seconds,
    p50: pct(0.5),
    p99: pct(0.99),
    roundTrips: (countRoundTrips() - before) / latencies.length,
  };
}

async function main(): Promise<void> {
  Logger.overrideLogger(false);
  await migrateRegistry({ DATABASE_URL });
  const counter = new CountingLogger();
  const ds = await new DataSource(
    registryDataSourceOptions({ DATABASE_URL, DATABASE_POOL_SIZE: POOL }, { logger: counter }),
  ).initialize();
  const config = buildServiceConfig({ name: 'token-registry', defaultPort: 0 }, RegistryEnvSchema, {
    ...process.env,
    DATABASE_URL,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    PUSH_APPS_FILE:
      process.env.PUSH_APPS_FILE ?? resolve(__dirname, '../../deploy/local/apps.yaml'),
  });
  const service = new DevicesService(
    ds,
    new UsersRepository(ds),
    new DevicesRepository(ds),
    new OutboxWriter(),
    config,
  );
  const pool = new Pool({ connectionString: DATABASE_URL, max: POOL });
  let baselineQueries = 0;
  await pool.query(
    `CREATE TABLE IF NOT EXISTS registry_bench_baseline (k varchar(128) PRIMARY KEY, v varchar(1024) NOT NULL, updated_at timestamptz NOT NULL)`,
  );
  const appId = `bench-${randomBytes(4).toString('hex')}`;
  const users = 2000;
  const register = (i: number) =>
    service
      .register(
        { appId, userId: `u${i % users}`, deviceId: `d${(i >> 4) % 3}` },
        {
          platform: 'ios',
          provider: 'apns',
          token: randomBytes(32).toString('hex'),
          topic: null,
          environment: 'production',
          pushType: 'alert',
          locale: null,
        },
      )
      .then(() => undefined);
  const baseline = async (i: number) => {
    baselineQueries++;
    await pool.query(
      `INSERT INTO registry_bench_baseline (k, v, updated_at) VALUES ($1, $2, clock_timestamp())
       ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v, updated_at = EXCLUDED.updated_at`,
      [`${appId}:u${i % users}:d${(i >> 4) % 3}`, randomBytes(32).toString('hex')],
    );
  };

  try {
    // Warm both paths (connections, plans) before measuring.
    for (let i = 0; i < 200; i++) await Promise.all([register(i), baseline(i)]);
    const rows: Array<Record<string, string | number>> = [];
    for (const c of CONCURRENCY) {
      const base = await measure(c, baseline, () => baselineQueries);
      const reg = await measure(c, register, () => counter.queries);
      const line = {
        concurrency: c,
        'baseline ops/s': Math.round(base.ops / base.seconds),
        'baseline p99 ms': +base.p99.toFixed(2),
        'registrations/s': Math.round(reg.ops / reg.seconds),
        'registration p50 ms': +reg.p50.toFixed(2),
        'registration p99 ms': +reg.p99.toFixed(2),
        'round trips/registration': +reg.roundTrips.toFixed(2),
        'throughput ratio (registration/baseline)': +(
          reg.ops /
          reg.seconds /
          (base.ops / base.seconds)
        ).toFixed(3),
        'p99 ratio (registration/baseline)': +(reg.p99 / base.p99).toFixed(2),
      };
      rows.push(line);
      console.log(JSON.stringify(line));
    }
    console.table(rows);
  } finally {
    // The bench's users never reach Kafka: their rows go, so no relay publishes them later.
    await pool.query(`DELETE FROM registry_outbox WHERE app_id = $1`, [appId]);
    await pool.query(`DELETE FROM registry_users WHERE app_id = $1`, [appId]);
    await pool.query(`DROP TABLE IF EXISTS registry_bench_baseline`);
    await pool.end();
    await ds.destroy();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
