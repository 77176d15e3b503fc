import type { PushAudience, TokenUserDevices } from '@app/contracts';

/** What the audience rules read of a user: the snapshot's tags and attributes. */
export type AudienceFacts = Pick<TokenUserDevices, 'tags' | 'attributes'> | undefined;

/**
 * Whether a user the walk reached belongs to the audience. Listed users and `all` always do (the
 * walk only visits listed users, or the app's users); tags: every tag of `and` and at least one of
 * `or` (each given part must hold); attributes: every given key with exactly that value.
 */
export function matchesAudience(audience: PushAudience, user: AudienceFacts): boolean {
  if ('userIds' in audience || 'all' in audience) return true;
  if ('tags' in audience) {
    const tags = user?.tags ?? [];
    const { and, or } = audience.tags;
    if (and && !and.every((t) => tags.includes(t))) return false;
    if (or && !or.some((t) => tags.includes(t))) return false;
    return true;
  }
  const attrs = user?.attributes ?? {};
  return Object.entries(audience.attributes).every(
    ([k, v]) => Object.hasOwn(attrs, k) && attrs[k] === v,
  );
}

/**
 * Users one partition may take per slice: the task's rate shared by the partitions, for one
 * slice of `sliceSeconds`; at least one.
 */
export function sliceQuota(rate: number, partitions: number, sliceSeconds: number): number {
  return Math.max(1, Math.floor((rate / partitions) * sliceSeconds));
}

/**
 * When the next slice may start so that `taken` users since `startedMs` keep the partition's
 * share of the rate (`rate / partitions` users per second).
 */
export function nextSliceAt(
  startedMs: number,
  taken: number,
  rate: number,
  partitions: number,
): number {
  return startedMs + Math.ceil((taken * 1000 * partitions) / rate);
}

/** The first index of `sorted` whose entry is greater than `after` (all when null). */
export function firstAfter(sorted: readonly string[], after: string | null): number {
  if (after === null) return 0;
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface WalkSlice {
  /** The keys taken (they match), in order. */
  taken: string[];
  /** The last key looked at (the checkpoint), or the previous cursor when none was. */
  cursor: string | null;
  /** The walk reached the end of the keys. */
  done: boolean;
}

/**
 * One slice of a walk over keys in sorted order: from after `cursor`, keys that `match` until
 * `limit` are taken or `maxScan` keys were looked at (a tag push over many users without the tag
 * checkpoints without taking any). Keys are compared as strings (`appId:userId`), so a walk
 * restarted from its cursor skips exactly what was looked at before.
 */
export function walkSlice(
  sorted: readonly string[],
  cursor: string | null,
  limit: number,
  maxScan: number,
  match: (key: string) => boolean,
): WalkSlice {
  const taken: string[] = [];
  let i = firstAfter(sorted, cursor);
  let scanned = 0;
  let last = cursor;
  while (i < sorted.length && taken.length < limit && scanned < maxScan) {
    const key = sorted[i++];
    scanned++;
    last = key;
    if (match(key)) taken.push(key);
  }
  return { taken, cursor: last, done: i >= sorted.length };
}
