import type { PushOutcome } from '@app/contracts';
import { utcDay, type DayWindow } from './partition-days';

/*
 * From a `push.outcome.v1` value to the row stored, as plain functions.
 *
 * Idempotency by jobId needs a duplicate to land in the partition of the original: the primary
 * key of a partitioned table must include the partition key, so it is (job_id, day), and `day`
 * must be the same for every copy of an outcome. It is the UTC day of `decided_at`: when routing
 * decided to push, i.e. the outcome's `at` minus its `latencyMs` (the dispatchers measure
 * `latencyMs` from the request's `createdAt`, which every retry and every re-send of the request
 * carries unchanged), or `at` itself for routing's own outcomes (no latency). A redelivered
 * record is the same bytes; a dispatcher that sends a request again after a crash answers with a
 * later `at` and a longer latency, hence the same `decided_at`.
 */

export interface OutcomeRow {
  jobId: string;
  /** The partition: UTC day of `decidedAt`. */
  day: string;
  appId: string;
  messageId: string;
  userId: string;
  deviceId: string | null;
  provider: string | null;
  status: string;
  code: string | null;
  reason: string | null;
  attempts: number;
  latencyMs: number | null;
  /** ISO, whole milliseconds. */
  decidedAt: string;
  /** ISO, whole milliseconds: the outcome's `at` (what the rollups bucket by). */
  at: string;
  /** The rollup partition: UTC day of `at`. */
  atDay: string;
}

/** When routing decided: `at − latencyMs` (whole ms), or `at` without a latency. */
export function decidedAtMs(o: Pick<PushOutcome, 'at' | 'latencyMs'>): number {
  const at = Date.parse(o.at);
  return o.latencyMs === null ? at : at - Math.round(o.latencyMs);
}

export function outcomeRow(o: PushOutcome): OutcomeRow {
  const decided = decidedAtMs(o);
  const at = Date.parse(o.at);
  return {
    jobId: o.jobId,
    day: utcDay(decided),
    appId: o.appId,
    messageId: o.messageId,
    userId: o.userId,
    deviceId: o.deviceId,
    provider: o.provider,
    status: o.status,
    code: o.code,
    reason: o.reason,
    attempts: o.attempts,
    latencyMs: o.latencyMs,
    decidedAt: new Date(decided).toISOString(),
    at: new Date(at).toISOString(),
    atDay: utcDay(at),
  };
}

/**
 * What happens to an outcome: stored; `expired` (its day is past retention: it would be dropped
 * at once, so it is counted and skipped); or refused for good (dead-lettered): a day after the
 * partitions created ahead (a clock far off), or a NUL character, which PostgreSQL text refuses.
 */
export type Placement =
  | { kind: 'store'; row: OutcomeRow }
  | { kind: 'expired' }
  | { kind: 'refused'; code: 'OUTCOME_IN_FUTURE' | 'INVALID_TEXT'; message: string };

const hasNul = (o: PushOutcome): boolean =>
  [o.jobId, o.messageId, o.code, o.reason].some((s) => s?.includes('\u0000'));

export function placeOutcome(o: PushOutcome, window: DayWindow): Placement {
  if (hasNul(o)) {
    return { kind: 'refused', code: 'INVALID_TEXT', message: 'a text field holds U+0000' };
  }
  const row = outcomeRow(o);
  if (row.day < window.oldest) return { kind: 'expired' };
  if (row.atDay > window.newest || row.day > window.newest) {
    return {
      kind: 'refused',
      code: 'OUTCOME_IN_FUTURE',
      message: `at ${o.at} is after the last day with a partition (${window.newest})`,
    };
  }
  return { kind: 'store', row };
}

/** The rows as one array per column, in the order of `INSERT_COLUMNS` (for `unnest`). */
export function columnsOf(rows: OutcomeRow[]): unknown[][] {
  return [
    rows.map((r) => r.jobId),
    rows.map((r) => r.day),
    rows.map((r) => r.appId),
    rows.map((r) => r.messageId),
    rows.map((r) => r.userId),
    rows.map((r) => r.deviceId),
    rows.map((r) => r.provider),
    rows.map((r) => r.status),
    rows.map((r) => r.code),
    rows.map((r) => r.reason),
    rows.map((r) => r.attempts),
    rows.map((r) => r.latencyMs),
    rows.map((r) => r.decidedAt),
    rows.map((r) => r.at),
  ];
}

/** The columns `columnsOf` fills, with the array type each is sent as. */
export const INSERT_COLUMNS: ReadonlyArray<readonly [column: string, arrayType: string]> = [
  ['job_id', 'text[]'],
  ['day', 'date[]'],
  ['app_id', 'text[]'],
  ['message_id', 'text[]'],
  ['user_id', 'text[]'],
  ['device_id', 'text[]'],
  ['provider', 'text[]'],
  ['status', 'text[]'],
  ['code', 'text[]'],
  ['reason', 'text[]'],
  ['attempts', 'int4[]'],
  ['latency_ms', 'float8[]'],
  ['decided_at', 'timestamptz[]'],
  ['at', 'timestamptz[]'],
];
