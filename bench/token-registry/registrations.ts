/**
 * Registrations per second and latency of `PUT .../devices/{deviceId}`'s transaction (lock and bump
 * the user, release the token, upsert the device, read the devices, append the snapshot to the
 * outbox), with the database round trips per registration counted, against a baseline run in the
 * same invocation: a bare single-row `INSERT ... ON CONFLICT DO UPDATE` through `pg`.
 *
 *   npx tsx bench/token-registry/registrations.ts [--seconds 8] [--concurrency 1,16]
 *
 * A last phase sends the same registrations as HTTP requests to the real service, run as a child
 * process from its sources (`libs/testing/src/swc-register.js`), so auth, validation, JSON and logging are included.
 * The relay is not (it is a separate, batched loop). Loopback only; bench rows are deleted at the
 * end.
 */
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { buildServiceConfig } from '@app/config';
import { apnsToken } from '@app/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'pg';
import { DataSource, type Logger as TypeOrmLogger } from 'typeorm';
import { migrateRegistry } from '@apps/token-registry/database/migrate';
import { registryDataSourceOptions } from '@apps/token-registry/database/registry-data-source';
import { DevicesRepository } from '@apps/token-registry/devices/devices.repository';
import { DevicesService } from '@apps/token-registry/devices/devices.service';
import { OutboxWriter } from '@apps/token-registry/outbox/outbox.writer';
import { RegistryEnvSchema } from '@apps/token-registry/registry-env.schema';
import { UsersRepository } from '@apps/token-registry/users/users.repository';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '6' },
    concurrency: { type: 'string', default: '1,16' },
  },
});
const SECONDS = Math.min(Number(values.seconds), 10);
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

/** Latencies (ms), time spent and round trips of one side of a comparison, over its slices. */
class Tally {
  latencies: number[] = [];
  seconds = 0;
  roundTrips = 0;

  result(): Result {
    const l = [...this.latencies].sort((a, b) => a - b);
    const pct = (p: number) => l[Math.min(l.length - 1, Math.floor(p * l.length))];
    return {
      ops: l.length,
      seconds: this.seconds,
      p50: pct(0.5),
      p99: pct(0.99),
      roundTrips: this.roundTrips / l.length,
    };
  }
}

/** Runs `op` from `concurrency` loops for `ms` into `tally`. */
async function slice(
  tally: Tally,
  concurrency: number,
  ms: number,
  op: (i: number) => Promise<void>,
  countRoundTrips: () => number,
): Promise<void> {
  const before = countRoundTrips();
  const started = performance.now();
  const deadline = started + ms;
  let i = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        await op(i++);
        tally.latencies.push(performance.now() - t);
      }
    }),
  );
  tally.seconds += (performance.now() - started) / 1000;
  tally.roundTrips += countRoundTrips() - before;
}

/**
 * Baseline and subject in alternating slices (3 each), so that load from elsewhere on a shared
 * machine weighs on both alike.
 */
async function compare(
  concurrency: number,
  baseline: [(i: number) => Promise<void>, () => number],
  subject: [(i: number) => Promise<void>, () => number],
): Promise<{ base: Result; subject: Result }> {
  const [b, s] = [new Tally(), new Tally()];
  const ms = (SECONDS * 1000) / 3;
  for (let round = 0; round < 3; round++) {
    await slice(b, concurrency, ms, ...baseline);
    await slice(s, concurrency, ms, ...subject);
  }
  return { base: b.result(), subject: s.result() };
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
          token: apnsToken(),
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
      [`${appId}:u${i % users}:d${(i >> 4) % 3}`, apnsToken()],
    );
  };

  try {
    // Warm both paths (connections, plans) before measuring.
    for (let i = 0; i < 200; i++) await Promise.all([register(i), baseline(i)]);
    const rows: Array<Record<string, string | number>> = [];
    for (const c of CONCURRENCY) {
      const { base, subject: reg } = await compare(
        c,
        [baseline, () => baselineQueries],
        [register, () => counter.queries],
      );
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
    const http = await startService(DATABASE_URL);
    try {
      const c = Math.max(...CONCURRENCY);
      const { base, subject: reg } = await compare(
        c,
        [baseline, () => baselineQueries],
        [(i) => registerOverHttp(http.url, `${appId}-u${i % users}`, i), () => 0],
      );
      const line = {
        concurrency: c,
        'baseline ops/s': Math.round(base.ops / base.seconds),
        'HTTP registrations/s': Math.round(reg.ops / reg.seconds),
        'HTTP registration p50 ms': +reg.p50.toFixed(2),
        'HTTP registration p99 ms': +reg.p99.toFixed(2),
        'throughput ratio (HTTP registration/baseline)': +(
          reg.ops /
          reg.seconds /
          (base.ops / base.seconds)
        ).toFixed(3),
      };
      rows.push(line);
      console.log(JSON.stringify(line));
    } finally {
      await http.stop();
    }
    console.log(`token-registry bench done: ${rows.length} phases (JSON lines above)`);
  } finally {
    await pool.query(`DELETE FROM registry_outbox WHERE app_id = 'demo' AND user_id LIKE $1`, [
      `${appId}-%`,
    ]);
    await pool.query(`DELETE FROM registry_users WHERE app_id = 'demo' AND user_id LIKE $1`, [
      `${appId}-%`,
    ]);
    // The bench's users never reach Kafka: their rows go, so no relay publishes them later.
    await pool.query(`DELETE FROM registry_outbox WHERE app_id = $1`, [appId]);
    await pool.query(`DELETE FROM registry_users WHERE app_id = $1`, [appId]);
    await pool.query(`DROP TABLE IF EXISTS registry_bench_baseline`);
    await pool.end();
    await ds.destroy();
  }
}

/** The registry service as its own process, from its sources, on a free loopback port. */
async function startService(
  databaseUrl: string,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await new Promise<number>((ok) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => ok(p));
    });
  });
  const root = resolve(__dirname, '../..');
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '-r',
      resolve(root, 'libs/testing/src/swc-register.js'),
      resolve(root, 'apps/token-registry/src/main.ts'),
    ],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        DATABASE_POOL_SIZE: String(POOL),
        KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
        PUSH_APPS_FILE: process.env.PUSH_APPS_FILE ?? resolve(root, 'deploy/local/apps.yaml'),
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(port),
        LOG_LEVEL: 'warn',
        REGISTRY_OUTBOX_RELAY: 'false',
        REGISTRY_INVALIDATION_CONSUMER: 'false',
      },
    },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30000;
  for (;;) {
    const ok = await fetch(`${url}/health/live`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error('the registry service did not start');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    stop: () =>
      new Promise<void>((ok) => {
        child.once('exit', () => ok());
        child.kill('SIGTERM');
      }),
  };
}

async function registerOverHttp(url: string, userId: string, i: number): Promise<void> {
  const res = await fetch(`${url}/v1/apps/demo/users/${userId}/devices/d${(i >> 4) % 3}`, {
    method: 'PUT',
    headers: { authorization: 'Bearer demo-api-key', 'content-type': 'application/json' },
    body: JSON.stringify({ platform: 'ios', token: apnsToken() }),
  });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
