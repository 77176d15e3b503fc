import { Inject, Injectable } from '@nestjs/common';
import { ServiceConfig } from '@app/config';
import { DataSource } from 'typeorm';
import { qualified, reportsSchemaOf } from '../database/reports-schema';
import type { DeliveryReportsEnv } from '../reports-env.schema';
import { reportsMetrics } from '../reports.metrics';
import { columnsOf, INSERT_COLUMNS, type OutcomeRow } from './outcome-rows';
import { Partitions } from './partitions';

/** SQLSTATE 23514 with this message: a row for which no partition exists (dropped meanwhile). */
const NO_PARTITION = /no partition of relation/;

/**
 * One statement (one transaction) per chunk of rows: insert the outcomes, skipping every jobId
 * already stored (`ON CONFLICT DO NOTHING` on (job_id, day)), and add the rows actually inserted
 * (`RETURNING`) to the per-minute rollups, so that a duplicate is neither stored nor counted
 * twice. The rollup upserts run in key order, so that two instances adding to the same minutes
 * take their row locks in the same order.
 */
export function storeStatement(schema: string): string {
  const names = INSERT_COLUMNS.map(([c]) => c).join(', ');
  const arrays = INSERT_COLUMNS.map(([, type], i) => `$${i + 1}::${type}`).join(', ');
  return `
    WITH inserted AS (
      INSERT INTO ${qualified(schema, 'outcomes')} (${names})
      SELECT * FROM unnest(${arrays})
      ON CONFLICT DO NOTHING
      RETURNING app_id, at, provider, status, code, latency_ms
    ), rolled AS (
      INSERT INTO ${qualified(schema, 'outcome_rollups')} AS r
        (app_id, minute, provider, status, code, count, latency_count, latency_sum_ms, latency_max_ms)
      SELECT app_id, date_trunc('minute', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
             coalesce(provider, ''), status, coalesce(code, ''),
             count(*), count(latency_ms), coalesce(sum(latency_ms), 0), max(latency_ms)
        FROM inserted
       GROUP BY 1, 2, 3, 4, 5
       ORDER BY 1, 2, 3, 4, 5
      ON CONFLICT (app_id, minute, provider, status, code) DO UPDATE SET
        count = r.count + EXCLUDED.count,
        latency_count = r.latency_count + EXCLUDED.latency_count,
        latency_sum_ms = r.latency_sum_ms + EXCLUDED.latency_sum_ms,
        latency_max_ms = GREATEST(r.latency_max_ms, EXCLUDED.latency_max_ms)
      RETURNING 1
    )
    SELECT count(*)::int AS inserted FROM inserted`;
}

/** Outcome rows into PostgreSQL, idempotently by jobId, with their rollups. */
@Injectable()
export class OutcomeStore {
  private readonly sql: string;
  private readonly chunk: number;

  constructor(
    private readonly ds: DataSource,
    private readonly partitions: Partitions,
    @Inject(ServiceConfig) config: ServiceConfig<DeliveryReportsEnv>,
  ) {
    this.sql = storeStatement(reportsSchemaOf(ds));
    this.chunk = config.env.DELIVERY_REPORTS_INSERT_CHUNK;
  }

  /** Stores the rows; returns how many were new (the rest were duplicates of stored jobIds). */
  async store(rows: OutcomeRow[]): Promise<number> {
    if (!rows.length) return 0;
    await this.ensurePartitions(rows);
    let inserted = 0;
    for (let i = 0; i < rows.length; i += this.chunk) {
      inserted += await this.insertChunk(rows.slice(i, i + this.chunk));
    }
    return inserted;
  }

  private async ensurePartitions(rows: OutcomeRow[]): Promise<void> {
    await this.partitions.ensure(
      'outcomes',
      rows.map((r) => r.day),
    );
    await this.partitions.ensure(
      'outcome_rollups',
      rows.map((r) => r.atDay),
    );
  }

  private async insertChunk(rows: OutcomeRow[]): Promise<number> {
    const end = reportsMetrics.storeSeconds.startTimer();
    try {
      const [{ inserted }]: { inserted: number }[] = await this.ds.query(this.sql, columnsOf(rows));
      return inserted;
    } catch (e) {
      if (!NO_PARTITION.test((e as Error).message)) throw e;
      // A partition this process believed in was dropped (retention ran elsewhere): look again.
      this.partitions.forget();
      await this.ensurePartitions(rows);
      const [{ inserted }]: { inserted: number }[] = await this.ds.query(this.sql, columnsOf(rows));
      return inserted;
    } finally {
      end();
    }
  }
}
