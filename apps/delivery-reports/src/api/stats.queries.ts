import { Injectable } from '@nestjs/common';
import { ValidationProblem } from '@app/http';
import { DataSource } from 'typeorm';
import { qualified, reportsSchemaOf } from '../database/reports-schema';
import type { GroupBy, StatsRange } from './stats-range';

/** An answer holds at most this many rows (buckets × groups). */
export const MAX_STATS_ROWS = 10_000;

/** The SQL column each `groupBy` dimension reads ('' is stored for none). */
const COLUMN: Record<GroupBy, string> = { provider: 'provider', status: 'status', reason: 'code' };

/** Buckets of rollup minutes, in UTC. */
const BUCKET: Record<StatsRange['interval'], string> = {
  minute: 'minute',
  hour: `date_trunc('hour', minute AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`,
  day: `date_trunc('day', minute AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`,
};

export interface StatsRow {
  bucket: string;
  provider?: string | null;
  status?: string;
  reason?: string | null;
  count: number;
  /** Mean and maximum latency of the outcomes that have one (sent); null when none has. */
  latencyAvgMs: number | null;
  latencyMaxMs: number | null;
}

export interface StatsView {
  appId: string;
  from: string;
  to: string;
  interval: StatsRange['interval'];
  groupBy: GroupBy[];
  total: number;
  /** Buckets with outcomes only (a bucket without is absent), by bucket then group. */
  rows: StatsRow[];
}

interface Aggregate {
  bucket: Date;
  provider?: string;
  status?: string;
  reason?: string;
  count: string;
  latency_count: string;
  latency_sum_ms: number;
  latency_max_ms: number | null;
}

/** `/stats` from the per-minute rollups (never from the outcomes themselves). */
@Injectable()
export class StatsQueries {
  private readonly table: string;

  constructor(private readonly ds: DataSource) {
    this.table = qualified(reportsSchemaOf(ds), 'outcome_rollups');
  }

  async stats(appId: string, range: StatsRange, groupBy: GroupBy[]): Promise<StatsView> {
    const dims = groupBy.map((g) => `${COLUMN[g]} AS ${g}`);
    const keys = ['1', ...groupBy.map((_, i) => String(i + 2))].join(', ');
    const rows: Aggregate[] = await this.ds.query(
      `SELECT ${[`${BUCKET[range.interval]} AS bucket`, ...dims].join(', ')},
              sum(count)::text AS count, sum(latency_count)::text AS latency_count,
              sum(latency_sum_ms) AS latency_sum_ms, max(latency_max_ms) AS latency_max_ms
         FROM ${this.table}
        WHERE app_id = $1 AND minute >= $2 AND minute < $3
        GROUP BY ${keys} ORDER BY ${keys}
        LIMIT $4`,
      [appId, new Date(range.from), new Date(range.to), MAX_STATS_ROWS + 1],
    );
    if (rows.length > MAX_STATS_ROWS) {
      throw new ValidationProblem([
        {
          field: 'from',
          message: `the answer would hold more than ${MAX_STATS_ROWS} rows: shorten from–to, use a longer interval or fewer groupBy dimensions`,
        },
      ]);
    }
    const out = rows.map((r) => statsRow(r, groupBy));
    return {
      appId,
      from: new Date(range.from).toISOString(),
      to: new Date(range.to).toISOString(),
      interval: range.interval,
      groupBy,
      total: out.reduce((n, r) => n + r.count, 0),
      rows: out,
    };
  }
}

function statsRow(r: Aggregate, groupBy: GroupBy[]): StatsRow {
  const latencyCount = Number(r.latency_count);
  const row: StatsRow = {
    bucket: r.bucket.toISOString(),
    count: Number(r.count),
    latencyAvgMs: latencyCount ? r.latency_sum_ms / latencyCount : null,
    latencyMaxMs: r.latency_max_ms,
  };
  for (const g of groupBy) {
    const v = r[g] ?? '';
    if (g === 'status') row.status = v;
    else row[g] = v === '' ? null : v;
  }
  return row;
}
