import {
  MAX_BADGE_RECORD_BYTES,
  type BadgeState,
  type PresenceUserState,
  type TokenUserDevices,
} from '@app/contracts';
import type { DeviceBadge } from '../badge/badge.counter';
import type { PushEntry } from '../badge/push-memory';
import { decodeAt, encodeBytes, headerAt, keySeeds } from './compact.codec';
import { Part, partitionOf, partStart, withPart } from './user-record';

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

type Codec<T> = {
  /** The part's header (read without decoding: the badges' `seq`) and its encoded value. */
  header(v: T): number;
  value(v: T): unknown;
  of(header: number, value: unknown): T;
};

const whole = <T>(): Codec<T> => ({ header: () => 0, value: (v) => v, of: (_, v) => v as T });

type BadgesBody = [UserBadges['devices'], string[], PushEntry[], number];
const badgesCodec: Codec<UserBadges> = {
  header: (b) => b.seq,
  value: (b): BadgesBody => [b.devices, b.recent, b.pushes, b.readSyncAt],
  of: (seq, body) => {
    const [devices, recent, pushes, readSyncAt] = body as BadgesBody;
    return { seq, devices, recent, pushes, readSyncAt };
  },
};

/**
 * One part of every user's state, read like a Map: values are decoded from the user's compact
 * record on each `get` (a new object each time: changing it changes nothing held).
 */
export class StatePart<T> {
  private count = 0;

  constructor(
    private readonly users: Map<string, string>,
    private readonly part: Part,
    private readonly codec: Codec<T>,
  ) {}

  get size(): number {
    return this.count;
  }

  has(key: string): boolean {
    return partStart(this.users.get(key), this.part) >= 0;
  }

  get(key: string): T | undefined {
    const record = this.users.get(key);
    const start = partStart(record, this.part);
    if (start < 0) return undefined;
    const [header, value] = decodeAt(record!, start, keySeeds(key));
    return this.codec.of(header, value);
  }

  /** The part's header (-1: none), without decoding the part. */
  header(key: string): number {
    const record = this.users.get(key);
    const start = partStart(record, this.part);
    return start < 0 ? -1 : headerAt(record!, start);
  }

  set(key: string, value: T, partition?: number): this {
    const record = this.users.get(key);
    if (partStart(record, this.part) < 0) this.count++;
    const bytes = encodeBytes(this.codec.header(value), this.codec.value(value), keySeeds(key));
    this.users.set(key, withPart(record, this.part, bytes, partition)!);
    return this;
  }

  delete(key: string): boolean {
    const record = this.users.get(key);
    if (partStart(record, this.part) < 0) return false;
    this.count--;
    const rest = withPart(record, this.part, undefined);
    if (rest === undefined) this.users.delete(key);
    else this.users.set(key, rest);
    return true;
  }

  reset(): void {
    this.count = 0;
  }
}

/**
 * The decide stage's in-memory state for the partitions this instance holds, keyed
 * `appId:userId`: the latest presence and device snapshots and routing's badge counters, one
 * compact record per part in one Map entry per user (docs/routing.md, "Memory"). It is rebuilt
 * from the compacted topics on every assignment.
 */
export class DecideState {
  /** One compact record per user (user-record.ts). */
  private readonly users = new Map<string, string>();
  readonly presence = new StatePart<PresenceUserState>(this.users, Part.Presence, whole());
  readonly tokens = new StatePart<TokenUserDevices>(this.users, Part.Tokens, whole());
  readonly badges = new StatePart<UserBadges>(this.users, Part.Badges, badgesCodec);
  /**
   * The user keys of each partition, in arrival order: may hold keys since removed or repeated
   * (filtered and compacted when the partition's sorted keys are rebuilt).
   */
  private readonly partitionKeys = new Map<number, string[]>();
  /** Sorted keys of one app in one partition, rebuilt when the partition's users change. */
  private readonly sorted = new Map<number, Map<string, string[]>>();

  clear(): void {
    this.users.clear();
    this.presence.reset();
    this.tokens.reset();
    this.badges.reset();
    this.partitionKeys.clear();
    this.sorted.clear();
  }

  /** The registered users of an app in a partition, in key order (cached until they change). */
  usersOf(partition: number, appId: string): readonly string[] {
    let byApp = this.sorted.get(partition);
    if (!byApp) this.sorted.set(partition, (byApp = new Map<string, string[]>()));
    let keys = byApp.get(appId);
    if (!keys) {
      const all = this.keysOf(partition);
      const prefix = `${appId}:`;
      keys = all.filter((k) => k.startsWith(prefix));
      byApp.set(appId, keys);
    }
    return keys;
  }

  /** The partition's current keys, sorted and unique (the index compacted to them). */
  private keysOf(partition: number): string[] {
    const indexed = this.partitionKeys.get(partition) ?? [];
    const live = indexed.filter((k) => this.partitionOf(k) === partition);
    live.sort();
    const keys = live.filter((k, i) => i === 0 || live[i - 1] !== k);
    this.partitionKeys.set(partition, keys);
    return keys;
  }

  applyPresence(key: string, value: PresenceUserState | null): void {
    if (value === null) this.presence.delete(key);
    else this.presence.set(key, value);
  }

  /** The partition a user's tokens were read from (-1: none or no tokens). */
  private partitionOf(key: string): number {
    const record = this.users.get(key);
    return partStart(record, Part.Tokens) >= 0 ? partitionOf(record!) : -1;
  }

  applyTokens(key: string, value: TokenUserDevices | null, partition?: number): void {
    const was = this.partitionOf(key);
    if (value === null) this.tokens.delete(key);
    else this.tokens.set(key, value, partition);
    if (partition === undefined) return;
    const present = value !== null;
    if ((was === partition) === present) return;
    if (present) {
      let keys = this.partitionKeys.get(partition);
      if (!keys) this.partitionKeys.set(partition, (keys = []));
      keys.push(key);
    }
    this.sorted.delete(partition);
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
    if (seq <= this.badgeSeq(key)) return;
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
      if (this.badgeSeq(key) < b.seq) this.badges.set(key, b);
    }
  }

  /** The `seq` of the badges held for `key` (-1: none), read without decoding them. */
  private badgeSeq(key: string): number {
    return this.badges.header(key);
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
