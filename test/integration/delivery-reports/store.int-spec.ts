import type { INestApplication } from '@nestjs/common';
import { TOPICS, type DeadLetter, type PushOutcome } from '@app/contracts';
import { EventProducer, outbound } from '@app/kafka';
import { testKafka, TopicRecorder, uniqueId, waitFor } from '@app/testing';
import type { DataSource } from 'typeorm';
import { PartitionMaintenance } from '@apps/delivery-reports/store/partition-maintenance.service';
import { addDays, DAY_MS, utcDay } from '@apps/delivery-reports/store/partition-days';
import { reportsMetrics } from '@apps/delivery-reports/reports.metrics';
import {
  dropSchema,
  migratedDataSource,
  outcome,
  startReports,
  testSchema,
} from './reports.fixture';

/** push.outcome.v1 through the real store group into the real PostgreSQL (a schema of its own). */
describe('delivery-reports store', () => {
  const schema = testSchema();
  const kafka = testKafka('reports-store-test');
  let app: INestApplication;
  let ds: DataSource;
  let producer: EventProducer;
  let letters: TopicRecorder;

  beforeAll(async () => {
    ds = await migratedDataSource(schema);
    letters = await TopicRecorder.start(kafka, TOPICS.deadLetter.name);
    producer = new EventProducer(kafka);
    await producer.connect();
    app = await startReports(schema);
  });

  afterAll(async () => {
    await app?.close();
    await producer?.disconnect();
    await letters?.stop();
    await dropSchema(ds, schema);
  });

  const publish = (values: PushOutcome[]) =>
    producer.send(values.map((v) => outbound(TOPICS.pushOutcome, v)));
  const stored = async (jobIds: string[]) =>
    (
      await ds.query(`SELECT job_id, status, at FROM "${schema}".outcomes WHERE job_id = ANY($1)`, [
        jobIds,
      ])
    ).length as number;
  /**
   * Outcomes of one user share a partition and are handled in order: once a later outcome of the
   * same user is stored, every earlier one has been handled.
   */
  const barrier = async (userId: string) => {
    const last = outcome({ userId });
    await publish([last]);
    await waitFor(async () => (await stored([last.jobId])) === 1, { what: `barrier of ${userId}` });
  };
  const rollupCount = async (appId: string): Promise<number> => {
    const [{ n }] = await ds.query(
      `SELECT coalesce(sum(count), 0)::int AS n FROM "${schema}".outcome_rollups WHERE app_id = $1`,
      [appId],
    );
    return n;
  };

  it('stores each jobId once and counts it once in the rollups, whatever the duplicates', async () => {
    const appId = 'demo';
    const userId = uniqueId('dup');
    const firsts = Array.from({ length: 40 }, (_, i) =>
      outcome({ appId, userId, deviceId: `d${i}`, messageId: 'm-dup' }),
    );
    // The same records again (a redelivery), and re-sends after a dispatcher crash: the same job
    // answered later, with the latency grown by the same amount (the same decision time).
    const resent = firsts.slice(0, 10).map((o) => ({
      ...o,
      status: 'failed' as const,
      at: new Date(Date.parse(o.at) + 5000).toISOString(),
      latencyMs: o.latencyMs! + 5000,
    }));
    const before = await rollupCount(appId);
    await publish(firsts);
    await publish([...firsts, ...resent]);
    await barrier(userId);
    expect(await stored(firsts.map((o) => o.jobId))).toBe(40);
    const rows = await ds.query(
      `SELECT status, count(*)::int AS n FROM "${schema}".outcomes WHERE user_id = $1 GROUP BY 1`,
      [userId],
    );
    // The first answer stands; the barrier is the 41st row.
    expect(rows).toEqual([{ status: 'delivered', n: 41 }]);
    expect((await rollupCount(appId)) - before).toBe(41);
  });

  it('skips outcomes past retention and dead-letters those after the partitions ahead', async () => {
    const userId = uniqueId('range');
    const old = outcome({ userId, at: new Date(Date.now() - 30 * DAY_MS).toISOString() });
    const future = outcome({ userId, at: new Date(Date.now() + 10 * DAY_MS).toISOString() });
    await publish([old, future]);
    await barrier(userId);
    expect(await stored([old.jobId, future.jobId])).toBe(0);
    const letter = await waitFor(() =>
      letters
        .values<DeadLetter>()
        .find((l) => l.error.code === 'OUTCOME_IN_FUTURE' && l.source.key === `demo:${userId}`),
    );
    expect(JSON.parse(letter.value!)).toMatchObject({ jobId: future.jobId });
  });

  it('retention drops whole partitions: outcomes after the retention, rollups after theirs', async () => {
    const userId = uniqueId('ret');
    const today = utcDay(Date.now());
    const o = outcome({ userId });
    await publish([o]);
    await waitFor(async () => (await stored([o.jobId])) === 1, { what: 'stored' });
    const maintenance = app.get(PartitionMaintenance);
    const partitions = async (table: string) =>
      (
        await ds.query<{ name: string }[]>(
          `SELECT c.relname AS name FROM pg_inherits i
             JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
             JOIN pg_namespace n ON n.oid = p.relnamespace
            WHERE n.nspname = $1 AND p.relname = $2 ORDER BY 1`,
          [schema, table],
        )
      ).map((r) => r.name);
    const todays = `outcomes_p${today.replaceAll('-', '')}`;
    expect(await partitions('outcomes')).toContain(todays);
    // Eight days later (retention 7): today's outcome partition goes, the rollups stay (90 days).
    const later = Date.now() + 8 * DAY_MS;
    const report = await maintenance.run(later);
    expect(report.dropped.outcomes).toContain(today);
    expect(report.dropped.outcome_rollups).toEqual([]);
    expect(report.created.outcomes).toContain(addDays(utcDay(later), 3));
    // The end of the newest partition, which the partitions-running-out alert watches.
    const end = (Date.parse(`${addDays(utcDay(later), 4)}T00:00:00Z`) / 1000).toString();
    const ends = (await reportsMetrics.partitionsEnd.get()).values;
    expect(ends.map((v) => [v.labels.table, String(v.value)]).sort()).toEqual([
      ['outcome_rollups', end],
      ['outcomes', end],
    ]);
    expect(await partitions('outcomes')).not.toContain(todays);
    expect(await partitions('outcome_rollups')).toContain(
      `outcome_rollups_p${today.replaceAll('-', '')}`,
    );
    expect(await stored([o.jobId])).toBe(0);
    expect(await rollupCount('demo')).toBeGreaterThan(0);
    // The store still takes today's outcomes: it creates the partition again when it needs it.
    const again = outcome({ userId });
    await publish([again]);
    await waitFor(async () => (await stored([again.jobId])) === 1, { what: 'stored again' });
    expect(await partitions('outcomes')).toContain(todays);
  });

  it('waits for a database without its schema (an outage), never dead-letters, then stores', async () => {
    const late = testSchema();
    const waiting = await startReports(late, { DELIVERY_REPORTS_RUN_MIGRATIONS: 'false' });
    let lateDs: DataSource | undefined;
    try {
      const userId = uniqueId('late');
      const values = [outcome({ userId }), outcome({ userId })];
      await publish(values);
      await new Promise((r) => setTimeout(r, 2500));
      expect(letters.values<DeadLetter>().filter((l) => l.source.key === `demo:${userId}`)).toEqual(
        [],
      );
      // The migration Job runs late: the retried batch lands.
      lateDs = await migratedDataSource(late);
      await waitFor(
        async () =>
          (
            await lateDs!.query(
              `SELECT count(*)::int AS n FROM "${late}".outcomes WHERE user_id = $1`,
              [userId],
            )
          )[0].n === 2,
        { what: 'stored after the migration', timeoutMs: 30000 },
      );
      expect(letters.values<DeadLetter>().filter((l) => l.source.key === `demo:${userId}`)).toEqual(
        [],
      );
    } finally {
      await waiting.close();
      await dropSchema(lateDs, late);
    }
  });
});
