import type { FieldError } from '@app/http';

/*
 * The time range and buckets of `/stats`, as plain functions. Buckets are UTC minutes, hours or
 * days; `from` is rounded down and `to` up to whole buckets (the answer echoes both), and a range
 * holds at most `MAX_BUCKETS[interval]` buckets.
 */

export const INTERVALS = ['minute', 'hour', 'day'] as const;
export type Interval = (typeof INTERVALS)[number];

export const INTERVAL_MS: Record<Interval, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

/** The most buckets one answer spans: a day of minutes, 31 days of hours, 400 days. */
export const MAX_BUCKETS: Record<Interval, number> = { minute: 1440, hour: 744, day: 400 };

/** Without `from`: this many buckets before `to`. */
export const DEFAULT_BUCKETS: Record<Interval, number> = { minute: 60, hour: 24, day: 30 };

export const GROUP_BY = ['provider', 'status', 'reason'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

/** The start of the bucket holding `ms` (UTC). */
export const bucketStart = (ms: number, interval: Interval): number =>
  Math.floor(ms / INTERVAL_MS[interval]) * INTERVAL_MS[interval];

/** The first bucket boundary at or after `ms`. */
export const bucketCeil = (ms: number, interval: Interval): number =>
  Math.ceil(ms / INTERVAL_MS[interval]) * INTERVAL_MS[interval];

export interface StatsRange {
  from: number;
  to: number;
  interval: Interval;
}

/** The aligned range of a request, or the fields that make it unusable. */
export function statsRange(
  q: { from?: string; to?: string; interval: Interval },
  now: number,
): StatsRange | FieldError[] {
  const { interval } = q;
  // Without `to`: up to the end of the bucket holding now (the current bucket, partly filled).
  const to = q.to
    ? bucketCeil(Date.parse(q.to), interval)
    : bucketStart(now, interval) + INTERVAL_MS[interval];
  const from = q.from
    ? bucketStart(Date.parse(q.from), interval)
    : to - DEFAULT_BUCKETS[interval] * INTERVAL_MS[interval];
  if (from >= to) return [{ field: 'from', message: 'must be before to' }];
  const buckets = (to - from) / INTERVAL_MS[interval];
  if (buckets > MAX_BUCKETS[interval]) {
    return [
      {
        field: 'from',
        message: `at most ${MAX_BUCKETS[interval]} ${interval} buckets from from to to (${buckets} asked); use a longer interval`,
      },
    ];
  }
  return { from, to, interval };
}

/** `provider,status` → the dimensions, each once, in the documented order. */
export function parseGroupBy(value: string | undefined): GroupBy[] | FieldError[] {
  if (value === undefined || value === '') return [];
  const parts = value.split(',').map((p) => p.trim());
  const unknown = parts.filter((p) => !(GROUP_BY as readonly string[]).includes(p));
  if (unknown.length) {
    return [
      {
        field: 'groupBy',
        message: `unknown dimension ${JSON.stringify(unknown[0])}: a comma-separated list of ${GROUP_BY.join(', ')}`,
      },
    ];
  }
  if (new Set(parts).size !== parts.length) {
    return [{ field: 'groupBy', message: 'names a dimension twice' }];
  }
  return GROUP_BY.filter((g) => parts.includes(g));
}
