/**
 * The decide state as it was before issue 17 (item 4): three Maps of the zod-parsed objects and
 * a Set of keys per partition. Kept only so that the state benches measure it beside DecideState
 * in the same invocation (it behaves the same for the deciders).
 */
import type { BadgeState, PresenceUserState, TokenUserDevices } from '@app/contracts';
import type { DeviceBadge } from '@apps/routing/badge/badge.counter';
import type { DecideState, UserBadges } from '@apps/routing/decide/decide.state';

export class ParsedState {
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

/** The parsed state where the deciders expect a DecideState (they use the same methods). */
export const asDecideState = (s: ParsedState): DecideState => s as unknown as DecideState;
