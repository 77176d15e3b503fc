import { Inject, Injectable } from '@nestjs/common';
import { ServiceConfig } from '@app/config';
import { DataSource } from 'typeorm';
import { qualified, reportsSchemaOf } from '../database/reports-schema';
import type { DeliveryReportsEnv } from '../reports-env.schema';
import type { OutcomeRow } from '../store/outcome-rows';
import { DAY_MS, utcDay } from '../store/partition-days';
import { encodeCursor } from './cursor';
import type { MessageOutcomesQuery, MessagePath, UserOutcomesQuery, UserPath } from './reports.dto';

/**
 * One device's final outcome, as the API shows it: the stored row without its partition keys and
 * app (`code`: the rule when suppressed, else the provider's reason code; `latencyMs`: from
 * routing's decision to the provider's answer, null when not sent).
 */
export type OutcomeView = Omit<OutcomeRow, 'day' | 'atDay' | 'appId'>;

export interface OutcomePage {
  items: OutcomeView[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

interface OutcomeRecord {
  job_id: string;
  day: string;
  message_id: string;
  user_id: string;
  device_id: string | null;
  provider: string | null;
  status: string;
  code: string | null;
  reason: string | null;
  attempts: number;
  latency_ms: number | null;
  decided_at: Date;
  at: Date;
}

const COLUMNS = `job_id, day::text AS day, message_id, user_id, device_id, provider, status, code,
  reason, attempts, latency_ms, decided_at, at`;

const view = (r: OutcomeRecord): OutcomeView => ({
  jobId: r.job_id,
  messageId: r.message_id,
  userId: r.user_id,
  deviceId: r.device_id,
  provider: r.provider,
  status: r.status,
  code: r.code,
  reason: r.reason,
  attempts: r.attempts,
  latencyMs: r.latency_ms,
  decidedAt: r.decided_at.toISOString(),
  at: r.at.toISOString(),
});

/** The stored outcomes of a message or a user, a page at a time (keyset pagination). */
@Injectable()
export class OutcomeQueries {
  private readonly table: string;
  private readonly retentionDays: number;

  constructor(
    private readonly ds: DataSource,
    @Inject(ServiceConfig) config: ServiceConfig<DeliveryReportsEnv>,
  ) {
    this.table = qualified(reportsSchemaOf(ds), 'outcomes');
    this.retentionDays = config.env.DELIVERY_REPORTS_RETENTION_DAYS;
  }

  /** Every recipient device's outcome, by user then job. */
  async ofMessage(path: MessagePath, q: MessageOutcomesQuery): Promise<OutcomePage> {
    const params: unknown[] = [path.appId, path.messageId, q.limit + 1];
    let after = '';
    if (q.cursor) {
      params.push(...q.cursor);
      after = 'AND (user_id, job_id, day) > ($4, $5, $6::date)';
    }
    const rows: OutcomeRecord[] = await this.ds.query(
      `SELECT ${COLUMNS} FROM ${this.table}
        WHERE app_id = $1 AND message_id = $2 ${after}
        ORDER BY user_id, job_id, day
        LIMIT $3`,
      params,
    );
    return page(rows, q.limit, (r) => encodeCursor('message', [r.user_id, r.job_id, r.day]));
  }

  /** The user's outcomes decided since `since` (default: all kept), newest first. */
  async ofUser(path: UserPath, q: UserOutcomesQuery, now = Date.now()): Promise<OutcomePage> {
    const since = q.since ? Date.parse(q.since) : now - (this.retentionDays + 1) * DAY_MS;
    // `day` is the partition key: the bound lets PostgreSQL skip older partitions.
    const params: unknown[] = [
      path.appId,
      path.userId,
      utcDay(since),
      new Date(since).toISOString(),
      q.limit + 1,
    ];
    let before = '';
    if (q.cursor) {
      params.push(...q.cursor);
      before = 'AND (decided_at, job_id) < ($6::timestamptz, $7)';
    }
    const rows: OutcomeRecord[] = await this.ds.query(
      `SELECT ${COLUMNS} FROM ${this.table}
        WHERE app_id = $1 AND user_id = $2 AND day >= $3::date AND decided_at >= $4 ${before}
        ORDER BY decided_at DESC, job_id DESC
        LIMIT $5`,
      params,
    );
    return page(rows, q.limit, (r) => encodeCursor('user', [r.decided_at.toISOString(), r.job_id]));
  }
}

function page(
  rows: OutcomeRecord[],
  limit: number,
  cursorOf: (last: OutcomeRecord) => string,
): OutcomePage {
  const items = rows.slice(0, limit);
  return {
    items: items.map(view),
    nextCursor: rows.length > limit ? cursorOf(items[items.length - 1]) : null,
  };
}
