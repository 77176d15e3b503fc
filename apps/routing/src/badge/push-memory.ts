import type { PushMemory } from '@app/contracts';
import type { DeviceBadge } from './badge.counter';

/**
 * Routing's memory of one user's recently pushed chat messages (a `routing.badge-state.v1`
 * field): per message its digest, conversation, time, and per device the badge increment it
 * applied. Recall and read sync take entries out of it; entries are never changed in place.
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

/** A pushed message remembered (newest last), trimmed to the limits. */
export function rememberPush(
  pushes: readonly PushEntry[],
  entry: PushEntry,
  limits: MemoryLimits,
): PushEntry[] {
  return trimMemory([...pushes, entry], limits, entry.t);
}

/** The entry of a message (by digest) and the memory without it; undefined when not remembered. */
export function takeRecalled(
  pushes: readonly PushEntry[],
  digest: string,
): { entry: PushEntry; rest: PushEntry[] } | undefined {
  const i = pushes.findIndex((e) => e.d === digest);
  if (i < 0) return undefined;
  return { entry: pushes[i], rest: [...pushes.slice(0, i), ...pushes.slice(i + 1)] };
}

/**
 * Whether `entry` is the newest remembered push of its conversation on `deviceId`: then a
 * notification with the conversation's tag (FCM) shows it, and a replacement under that tag
 * replaces it; otherwise the tag shows a newer message, which a replacement would wrongly hide.
 */
export function isLatestOfConversation(
  pushes: readonly PushEntry[],
  entry: PushEntry,
  deviceId: string,
): boolean {
  const newer = pushes.slice(pushes.indexOf(entry) + 1);
  return !newer.some((e) => e.c === entry.c && Object.hasOwn(e.v, deviceId));
}

export interface ConversationRead {
  /** Per device: the badge increments of the conversation's remembered (unread) pushes. */
  increments: Map<string, number>;
  /** The memory without the conversation's entries. */
  rest: PushEntry[];
}

/** A conversation read: its remembered pushes are taken out with what they added per device. */
export function takeConversation(
  pushes: readonly PushEntry[],
  conversation: string,
): ConversationRead {
  const increments = new Map<string, number>();
  const rest: PushEntry[] = [];
  for (const e of pushes) {
    if (e.c !== conversation) {
      rest.push(e);
      continue;
    }
    for (const [deviceId, inc] of Object.entries(e.v)) {
      increments.set(deviceId, (increments.get(deviceId) ?? 0) + inc);
    }
  }
  return { increments, rest };
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
