import {
  MAX_BADGE_RECORD_BYTES,
  type BadgeState,
  type PresenceUserState,
  type TokenUserDevices,
} from '@app/contracts';
import type { DeviceBadge } from '../badge/badge.counter';
import type { PushEntry } from '../badge/push-memory';

/** Routing's memory of one user's badges (mirrors their record in `routing.badge-state.v1`). */
export interface UserBadges {
  seq: number;
  devices: Map<string, DeviceBadge>;
  /** Digests of the most recent pushed messages, newest last. */
  recent: string[];
  /** Recently pushed chat messages with their badge increments (recall, read sync), oldest first. */
  pushes: PushEntry[];
  /** When the user last got a read-sync push (unix seconds; 0: never). */
  readSyncAt: number;
}

export const emptyBadges = (): UserBadges => ({
  seq: 0,
  devices: new Map(),
  recent: [],
  pushes: [],
  readSyncAt: 0,
});

export const cloneBadges = (b: UserBadges): UserBadges => ({
  seq: b.seq,
  devices: new Map(b.devices),
  recent: [...b.recent],
  // Entries are never changed in place: the list is replaced when it changes.
  pushes: b.pushes,
  readSyncAt: b.readSyncAt,
});

/**
 * The decide stage's in-memory state for the partitions this instance holds, keyed
 * `appId:userId`: the latest presence and device snapshots and routing's badge counters. It is
 * rebuilt from the compacted topics on every assignment.
 */
export class DecideState {
  readonly presence = new Map<string, PresenceUserState>();
  readonly tokens = new Map<string, TokenUserDevices>();
  readonly badges = new Map<string, UserBadges>();
  /** The user keys of each partition (push tasks walk a partition's users, nothing global). */
  private readonly partitionKeys = new Map<number, Set<string>>();
  /** Sorted keys of one app in one partition, rebuilt when the partition's users change. */
  private readonly sorted = new Map<number, Map<string, string[]>>();

  clear(): void {
    this.presence.clear();
    this.tokens.clear();
    this.badges.clear();
    this.partitionKeys.clear();
    this.sorted.clear();
  }

  /** The registered users of an app in a partition, in key order (cached until they change). */
  usersOf(partition: number, appId: string): readonly string[] {
    let byApp = this.sorted.get(partition);
    if (!byApp) this.sorted.set(partition, (byApp = new Map<string, string[]>()));
    let keys = byApp.get(appId);
    if (!keys) {
      const prefix = `${appId}:`;
      keys = [...(this.partitionKeys.get(partition) ?? [])].filter((k) => k.startsWith(prefix));
      keys.sort();
      byApp.set(appId, keys);
    }
    return keys;
  }

  private index(key: string, partition: number | undefined, present: boolean): void {
    if (partition === undefined) return;
    let keys = this.partitionKeys.get(partition);
    if (!keys) this.partitionKeys.set(partition, (keys = new Set()));
    if (present === keys.has(key)) return;
    if (present) keys.add(key);
    else keys.delete(key);
    this.sorted.delete(partition);
  }

  applyPresence(key: string, value: PresenceUserState | null): void {
    if (value === null) this.presence.delete(key);
    else this.presence.set(key, value);
  }

  applyTokens(key: string, value: TokenUserDevices | null, partition?: number): void {
    if (value === null) this.tokens.delete(key);
    else this.tokens.set(key, value);
    this.index(key, partition, value !== null);
  }

  /**
   * A changelog record, from restore or our own write coming back. Idempotent and never
   * backwards: a record older than what memory holds (lower `seq`) is ignored.
   */
  applyBadgeRecord(key: string, value: BadgeState | null): void {
    if (value === null) {
      this.badges.delete(key);
      return;
    }
    const seq = value.seq ?? 0;
    const current = this.badges.get(key);
    if (current && current.seq >= seq) return;
    const devices = new Map<string, DeviceBadge>();
    for (const [deviceId, count] of Object.entries(value.devices)) {
      devices.set(deviceId, { count, at: value.pushedAt?.[deviceId] ?? value.updatedAt });
    }
    this.badges.set(key, {
      seq,
      devices,
      recent: value.recent ?? [],
      pushes: value.pushes ?? [],
      readSyncAt: value.readSyncAt ?? 0,
    });
  }

  /** Changes decided in a committed transaction. */
  commitBadges(changes: ReadonlyMap<string, UserBadges>): void {
    for (const [key, b] of changes) {
      const current = this.badges.get(key);
      if (!current || current.seq < b.seq) this.badges.set(key, b);
    }
  }
}

/**
 * The changelog record for a user's badges, under MAX_BADGE_RECORD_BYTES of JSON: when it would
 * be larger (many devices with long ids, a large push memory), the oldest remembered pushes are
 * dropped, from `b` too, so memory stays what the record says.
 */
export function badgeRecord(appId: string, userId: string, b: UserBadges, now: Date): BadgeState {
  const record = buildRecord(appId, userId, b, now);
  if (!record.pushes) return record;
  const bytes = Buffer.byteLength(JSON.stringify(record));
  if (bytes <= MAX_BADGE_RECORD_BYTES) return record;
  // Room for the entries: the budget less the rest of the record (each entry costs a comma too).
  let room = MAX_BADGE_RECORD_BYTES - (bytes - Buffer.byteLength(JSON.stringify(record.pushes)));
  let from = b.pushes.length;
  while (from > 0) {
    const size = Buffer.byteLength(JSON.stringify(b.pushes[from - 1])) + 1;
    if (size > room) break;
    room -= size;
    from--;
  }
  b.pushes = b.pushes.slice(from);
  return buildRecord(appId, userId, b, now);
}

function buildRecord(appId: string, userId: string, b: UserBadges, now: Date): BadgeState {
  const devices: Record<string, number> = {};
  const pushedAt: Record<string, string> = {};
  for (const [deviceId, d] of b.devices) {
    devices[deviceId] = d.count;
    pushedAt[deviceId] = d.at;
  }
  return {
    appId,
    userId,
    updatedAt: now.toISOString(),
    devices,
    seq: b.seq,
    pushedAt,
    recent: b.recent,
    ...(b.pushes.length > 0 ? { pushes: b.pushes } : {}),
    ...(b.readSyncAt > 0 ? { readSyncAt: b.readSyncAt } : {}),
  };
}
