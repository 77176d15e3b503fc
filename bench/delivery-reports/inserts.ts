/**
 * Outcomes stored per second by the delivery reports' store path (`OutcomeStore.store`: one
 * statement per chunk inserting into the day-partitioned `outcomes` with `ON CONFLICT DO NOTHING`
 * on (job_id, day), its two indexes, and the per-minute rollups upserted from the rows actually
 * inserted), against a baseline run in the same invocation: a bare batch insert of the same rows
 * (`INSERT ... SELECT FROM unnest(...)`, the same columns) into a plain table with only a primary
 * key, through the same pool.
 *
 *   npx tsx bench/delivery-reports/inserts.ts [--seconds 6]        (npm run bench:reports)
 *
 * Phases: batches of 1,000 (the default DELIVERY_REPORTS_INSERT_CHUNK) from 1 and 4 concurrent
 * writers (one writer per consumed partition), batches of 100, a redelivery (every row already
 * stored), the store path without its rollups (what they cost), and the alternative the store
 * did not take: COPY into a temporary staging table, then the same INSERT ... ON CONFLICT and
 * rollups from it (one transaction). Baseline and subject run in
 * alternating slices, so that load from elsewhere weighs on both alike. A schema of its own is
 * created and dropped. Prints one JSON line per phase.
 */
import 'reflect-metadata';
import type { ServiceConfig } from '@app/config';
import type { PushOutcome } from '@app/contracts';
import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { Pool } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { migrateReports } from '@apps/delivery-reports/database/migrate';
import { reportsDataSourceOptions } from '@apps/delivery-reports/database/reports-data-source';
import type { DeliveryReportsEnv } from '@apps/delivery-reports/reports-env.schema';
import { OutcomeStore, storeStatement } from '@apps/delivery-reports/store/outcome.store';
import {
  columnsOf,
  INSERT_COLUMNS,
  outcomeRow,
  type OutcomeRow,
} from '@apps/delivery-reports/store/outcome-rows';
import { Partitions } from '@apps/delivery-reports/store/partitions';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '6' } } });
const SECONDS = Math.min(Number(values.seconds), 20);
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://push:push@127.0.0.1:5432/push';
const SCHEMA = `dr_bench_${randomBytes(4).toString('hex')}`;
const POOL = 8;

const PROVIDERS = ['apns', 'fcm'] as const;
const OUTCOMES: Array<Pick<PushOutcome, 'status' | 'code'>> = [
  ...Array.from({ length: 12 }, () => ({ status: 'delivered' as const, code: null })),
  { status: 'suppressed', code: 'online_foreground' },
  { status: 'suppressed', code: 'dnd' },
  { status: 'invalid_token', code: 'Unregistered' },
  { status: 'failed', code: 'UNAVAILABLE' },
];

/** `n` outcomes as the dispatchers write them: 10,000 users, the last minutes, mostly sent. */
function batch(n: number): OutcomeRow[] {
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => {
    const kind = OUTCOMES[(Math.random() * OUTCOMES.length) | 0];
    const sent = kind.status !== 'suppressed';
    return outcomeRow({
      jobId: randomUUID(),
      messageId: `m-${randomBytes(6).toString('hex')}`,
      appId: 'bench',
      userId: `u${(Math.random() * 10_000) | 0}`,
      deviceId: `d${i % 3}`,
      provider: PROVIDERS[i % 2],
      status: kind.status,
      code: kind.code,
      reason: kind.code ? `reason of ${kind.code}` : null,
      attempts: sent ? 1 : 0,
      latencyMs: sent ? 50 + ((Math.random() * 400) | 0) : null,
      at: new Date(now - ((Math.random() * 300_000) | 0)).toISOString(),
    });
  });
}

interface Tally {
  rows: number;
  seconds: number;
}

/** `concurrency` writers, each storing batches of `size` for `ms`. */
async function slice(
  tally: Tally,
  concurrency: number,
  ms: number,
  op: (rows: OutcomeRow[]) => Promise<unknown>,
  make: () => OutcomeRow[],
): Promise<void> {
  const started = performance.now();
  const deadline = started + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const rows = make();
        await op(rows);
        tally.rows += rows.length;
      }
    }),
  );
  tally.seconds += (performance.now() - started) / 1000;
}

type Op = (rows: OutcomeRow[]) => Promise<unknown>;

async function compare(
  concurrency: number,
  make: () => OutcomeRow[],
  baseline: Op,
  subject: Op,
  subjectMake = make,
): Promise<{ base: number; subject: number }> {
  const [b, s]: Tally[] = [
    { rows: 0, seconds: 0 },
    { rows: 0, seconds: 0 },
  ];
  const ms = (SECONDS * 1000) / 3;
  for (let round = 0; round < 3; round++) {
    await slice(b, concurrency, ms, baseline, make);
    await slice(s, concurrency, ms, subject, subjectMake);
  }
  return { base: b.rows / b.seconds, subject: s.rows / s.seconds };
}

/** A value in COPY's text format. */
const copyText = (v: unknown): string =>
  v === null || v === undefined
    ? '\\N'
    : (v as string | number)
        .toString()
        .replace(
          /[\\\t\n\r]/g,
          (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!,
        );

/**
 * The COPY alternative: rows COPYed into a temporary staging table, then the store statement
 * reading from it instead of `unnest`, in one transaction (5 round trips instead of 1).
 */
function copyPath(pool: Pool, schema: string): Op {
  const names = INSERT_COLUMNS.map(([c]) => c).join(', ');
  const fromStaging = storeStatement(schema).replace(
    /SELECT \* FROM unnest\([^)]*\)/,
    `SELECT ${names} FROM staging`,
  );
  if (!fromStaging.includes('FROM staging')) throw new Error('could not rewrite the statement');
  return async (rows) => {
    const client = await pool.connect();
    try {
      await client.query(
        `BEGIN; CREATE TEMP TABLE IF NOT EXISTS staging ON COMMIT DELETE ROWS
           AS SELECT ${names} FROM "${schema}".outcomes WITH NO DATA`,
      );
      const cols = columnsOf(rows);
      const lines = rows.map((_, i) => `${cols.map((c) => copyText(c[i])).join('\t')}\n`);
      await pipeline(
        Readable.from([lines.join('')]),
        client.query(copyFrom(`COPY staging (${names}) FROM STDIN`)),
      );
      await client.query(fromStaging);
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  };
}

async function main(): Promise<void> {
  await migrateReports({ DATABASE_URL, DELIVERY_REPORTS_SCHEMA: SCHEMA });
  const ds = await new DataSource(
    reportsDataSourceOptions({
      DATABASE_URL,
      DATABASE_POOL_SIZE: POOL,
      DELIVERY_REPORTS_SCHEMA: SCHEMA,
    }),
  ).initialize();
  const config = {
    env: { DELIVERY_REPORTS_INSERT_CHUNK: 1000 },
  } as ServiceConfig<DeliveryReportsEnv>;
  const store = new OutcomeStore(ds, new Partitions(ds), config);
  const names = INSERT_COLUMNS.map(([c]) => c).join(', ');
  const arrays = INSERT_COLUMNS.map(([, type], i) => `$${i + 1}::${type}`).join(', ');
  await ds.query(
    `CREATE TABLE "${SCHEMA}".bare (LIKE "${SCHEMA}".outcomes INCLUDING DEFAULTS, PRIMARY KEY (job_id))`,
  );
  const bareSql = `INSERT INTO "${SCHEMA}".bare (${names}) SELECT * FROM unnest(${arrays})`;
  const bare: Op = (rows) => ds.query(bareSql, columnsOf(rows));
  const storePath: Op = (rows) => store.store(rows);
  // The store statement without its rollups CTE: what the rollups cost.
  const noRollupsSql = storeStatement(SCHEMA).replace(
    /, rolled AS \([\s\S]*?RETURNING 1\n\s*\)/,
    '',
  );
  if (noRollupsSql.includes('outcome_rollups')) throw new Error('could not strip the rollups');
  const noRollups: Op = (rows) => ds.query(noRollupsSql, columnsOf(rows));
  // TypeORM's pool (node-postgres) underneath the data source, for COPY.
  const copy = copyPath((ds.driver as unknown as { master: Pool }).master, SCHEMA);
  // Rows already stored, replayed (a redelivery): every one a conflict.
  const stored: OutcomeRow[][] = [];
  const keep: Op = async (rows) => {
    await store.store(rows);
    if (stored.length < 200) stored.push(rows);
  };
  let replay = 0;
  const again = () => stored[replay++ % stored.length];

  try {
    for (let i = 0; i < 5; i++) await Promise.all([bare(batch(1000)), keep(batch(1000))]);
    const phases: Array<[string, number, () => OutcomeRow[], Op, (() => OutcomeRow[])?]> = [
      ['store path, batches of 1000, 1 writer', 1, () => batch(1000), keep],
      ['store path, batches of 1000, 4 writers', 4, () => batch(1000), storePath],
      ['store path, batches of 100, 1 writer', 1, () => batch(100), storePath],
      [
        'store path, redelivery: batches of 1000 already stored, 1 writer',
        1,
        () => batch(1000),
        storePath,
        again,
      ],
      [
        'store statement without rollups, batches of 1000, 1 writer',
        1,
        () => batch(1000),
        noRollups,
      ],
      [
        'COPY into staging + the same statement, batches of 1000, 1 writer',
        1,
        () => batch(1000),
        copy,
      ],
    ];
    for (const [phase, concurrency, make, op, subjectMake] of phases) {
      const { base, subject } = await compare(concurrency, make, bare, op, subjectMake);
      console.log(
        JSON.stringify({
          phase,
          'bare insert rows/s': Math.round(base),
          'rows/s': Math.round(subject),
          'ratio (rows/s / bare rows/s)': +(subject / base).toFixed(2),
        }),
      );
    }
    const [{ rows, rollups }] = await ds.query(
      `SELECT (SELECT count(*) FROM "${SCHEMA}".outcomes)::int AS rows,
              (SELECT count(*) FROM "${SCHEMA}".outcome_rollups)::int AS rollups`,
    );
    console.log(JSON.stringify({ 'outcomes stored': rows, 'rollup rows': rollups }));
  } finally {
    await ds.query(`DROP SCHEMA "${SCHEMA}" CASCADE`);
    await ds.destroy();
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(e);
    process.exit(1);
  },
);
