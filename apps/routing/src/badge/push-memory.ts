import { MAX_PUSH_MEMORY_DEVICES, type PushMemory } from '@app/contracts';
import type { DeviceBadge } from './badge.counter';

/**
 * Routing's memory of one user's recently pushed chat messages (a `routing.badge-state.v1`
 * field): per message its digest, conversation, time, and per device the badge increment it
 * applied. A recall takes its entry out, a read marks entries read; entries are never changed in
 * place (a changed entry is a new object in a new list).
 */
export type PushEntry = PushMemory;

export interface MemoryLimits {
  /** Entries kept per user (0: nothing is remembered). */
  count: number;
  /** Entries older than this are forgotten. */
  seconds: number;
}

/** Keeps the newest `count` entries that are younger than `seconds`. Returns a new list. */
export function trimMemory(
  pushes: readonly PushEntry[],
  limits: MemoryLimits,
  nowSeconds: number,
): PushEntry[] {
  if (limits.count <= 0) return [];
  const young = pushes.filter((e) => nowSeconds - e.t <= limits.seconds);
  return young.length > limits.count ? young.slice(young.length - limits.count) : young;
}

/**
 * A pushed message remembered (newest last), trimmed to the limits; at most
 * MAX_PUSH_MEMORY_DEVICES devices of it (the registry never holds more for a user).
 */
export function rememberPush(
  pushes: readonly PushEntry[],
  entry: PushEntry,
  limits: MemoryLimits,
): PushEntry[] {
  const ids = Object.keys(entry.v);
  const capped =
    ids.length > MAX_PUSH_MEMORY_DEVICES
      ? {
          ...entry,
          v: Object.fromEntries(
            ids.slice(0, MAX_PUSH_MEMORY_DEVICES).map((id) => [id, entry.v[id]]),
          ),
        }
      : entry;
  return trimMemory([...pushes, capped], limits, entry.t);
}

/** When the entry's message was sent (unix seconds): `t` less the recorded lag. */
export const sentSeconds = (e: PushEntry): number => e.t - (e.s ?? 0);

/**
 * The entry of a message (by digest) and the memory without it; undefined when not remembered.
 * Every copy is taken (a record written before repeats were caught by the memory may hold two):
 * the entry returned is the newest copy with the increments of all copies summed per device.
 */
export function takeRecalled(
  pushes: readonly PushEntry[],
  digest: string,
): { entry: PushEntry; rest: PushEntry[] } | undefined {
  const copies = pushes.filter((e) => e.d === digest);
  if (copies.length === 0) return undefined;
  const rest = pushes.filter((e) => e.d !== digest);
  if (copies.length === 1) return { entry: copies[0], rest };
  const v: Record<string, number> = {};
  for (const c of copies) {
    for (const [deviceId, inc] of Object.entries(c.v)) v[deviceId] = (v[deviceId] ?? 0) + inc;
  }
  const newest = copies[copies.length - 1];
  const unread = copies.some((c) => c.r === undefined);
  const entry: PushEntry = { ...newest, v };
  if (unread) delete entry.r;
  else entry.r ??= 1;
  return { entry, rest };
}

/** Whether `digest` is remembered (pushed to the user within the memory's bounds). */
export const remembered = (pushes: readonly PushEntry[], digest: string): boolean =>
  pushes.some((e) => e.d === digest);

/**
 * Whether `entry` is the newest remembered push of its conversation on `deviceId`: then a
 * notification with the conversation's tag (FCM) shows it, and a replacement under that tag
 * replaces it; otherwise the tag shows a newer message, which a replacement would wrongly hide.
 * The entry is found by digest (its newest copy), so a merged entry from takeRecalled works too.
 */
export function isLatestOfConversation(
  pushes: readonly PushEntry[],
  entry: PushEntry,
  deviceId: string,
): boolean {
  let at = -1;
  for (let i = 0; i < pushes.length; i++) if (pushes[i].d === entry.d) at = i;
  const newer = pushes.slice(at + 1);
  return !newer.some((e) => e.c === entry.c && Object.hasOwn(e.v, deviceId));
}

export interface ConversationRead {
  /** Per device: the badge increments of the conversation's unread pushes the read covers. */
  increments: Map<string, number>;
  /**
   * The memory with those entries marked read (`r: 2`, sync owed): increments 0, the reading
   * device left out. Newer pushes stay unread.
   */
  pushes: PushEntry[];
}

/**
 * A conversation read at `readAtSeconds` on `readerId` (null: no device named): its unread
 * pushes sent at or before the read are marked read, with what they added per device. Entries
 * are kept (a later recall still replaces the notification, without a second badge change).
 */
export function readConversation(
  pushes: readonly PushEntry[],
  conversation: string,
  readAtSeconds: number,
  readerId: string | null,
): ConversationRead {
  const increments = new Map<string, number>();
  const out: PushEntry[] = [];
  for (const e of pushes) {
    if (e.c !== conversation || e.r !== undefined || sentSeconds(e) > readAtSeconds) {
      out.push(e);
      continue;
    }
    const v: Record<string, number> = {};
    for (const [deviceId, inc] of Object.entries(e.v)) {
      increments.set(deviceId, (increments.get(deviceId) ?? 0) + inc);
      if (deviceId !== readerId) v[deviceId] = 0;
    }
    // Kept even with no device left: a repeat of the message is still known as pushed.
    out.push({ ...e, v, r: 2 });
  }
  return { increments, pushes: out };
}

/** Whether the memory holds a read whose sync is owed (`r: 2`). */
export const syncOwed = (pushes: readonly PushEntry[]): boolean => pushes.some((e) => e.r === 2);

/**
 * The owed read syncs settled: per device, the conversations to clear (each once, the most
 * recently pushed
 * newest last), and the memory with those entries marked synced (`r: 1`).
 */
export function settleOwed(pushes: readonly PushEntry[]): {
  clear: Map<string, string[]>;
  pushes: PushEntry[];
} {
  const clear = new Map<string, string[]>();
  const out = pushes.map((e) => {
    if (e.r !== 2) return e;
    for (const deviceId of Object.keys(e.v)) {
      const list = (clear.get(deviceId) ?? []).filter((c) => c !== e.c);
      list.push(e.c);
      clear.set(deviceId, list);
    }
    return { ...e, r: 1 as const };
  });
  return { clear, pushes: out };
}

/** A device's count less `by` (never below 0), set now. */
export const lowerBadge = (prev: DeviceBadge, by: number, at: string): DeviceBadge => ({
  count: Math.max(0, prev.count - by),
  at,
});

/** Whether a read-sync push may go to the user now (at most one per `intervalSeconds`). */
export const readSyncAllowed = (
  lastSeconds: number,
  nowSeconds: number,
  intervalSeconds: number,
): boolean => lastSeconds === 0 || nowSeconds - lastSeconds >= intervalSeconds;
