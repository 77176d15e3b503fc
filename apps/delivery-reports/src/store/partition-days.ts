/*
 * Daily partitions, as plain functions over UTC days (`YYYY-MM-DD`): which day a row belongs to,
 * what its partition is called, which partitions to create ahead and which to drop.
 */

export const DAY_MS = 86_400_000;

/** The tables partitioned by day (`PARTITION BY RANGE`, one partition per UTC day). */
export const PARTITIONED_TABLES = ['outcomes', 'outcome_rollups'] as const;
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number];

/** The UTC day of an instant (epoch ms). */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Epoch ms of a day's first instant (UTC midnight). */
export const dayStartMs = (day: string): number => Date.parse(`${day}T00:00:00.000Z`);

export const addDays = (day: string, n: number): string => utcDay(dayStartMs(day) + n * DAY_MS);

/** `outcomes` + `2026-11-29` → `outcomes_p20261129`. */
export const partitionName = (table: PartitionedTable, day: string): string =>
  `${table}_p${day.replaceAll('-', '')}`;

/** The day a partition of `table` holds, or undefined for a name that is not one of them. */
export function partitionDay(table: PartitionedTable, name: string): string | undefined {
  const m = new RegExp(`^${table}_p(\\d{4})(\\d{2})(\\d{2})$`).exec(name);
  if (!m) return undefined;
  const day = `${m[1]}-${m[2]}-${m[3]}`;
  return Number.isNaN(dayStartMs(day)) || utcDay(dayStartMs(day)) !== day ? undefined : day;
}

/**
 * The days a table keeps: from `oldest` (today minus the retention, so that every row stays at
 * least `retentionDays` days) to `newest` (the last day created ahead).
 */
export interface DayWindow {
  oldest: string;
  newest: string;
}

export function retentionWindow(
  nowMs: number,
  retentionDays: number,
  aheadDays: number,
): DayWindow {
  const today = utcDay(nowMs);
  return { oldest: addDays(today, -retentionDays), newest: addDays(today, aheadDays) };
}

/** Every day of a window, oldest first. */
export function daysOf(window: DayWindow): string[] {
  const days: string[] = [];
  for (let d = window.oldest; d <= window.newest; d = addDays(d, 1)) days.push(d);
  return days;
}

/** The partitions (by day) a table should get: today up to the last day ahead, those missing. */
export const partitionsToCreate = (
  existing: Iterable<string>,
  from: string,
  to: string,
): string[] => {
  const have = new Set(existing);
  return daysOf({ oldest: from, newest: to }).filter((d) => !have.has(d));
};

/** The partitions (by day) past retention: older than the window's first day. */
export const partitionsToDrop = (existing: Iterable<string>, window: DayWindow): string[] =>
  [...existing].filter((d) => d < window.oldest).sort();
