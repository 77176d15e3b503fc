import type { PresenceUserState } from '@app/contracts';
import {
  applyEvent,
  differsForSnapshot,
  expire,
  fromSnapshotDevice,
  toSnapshotDevice,
  nextDeadline,
  type DeviceEventInput,
  type DeviceState,
  type PresencePolicy,
} from './device-presence.machine';

/**
 * One user's devices. Invariant: `devices` never differs from the last published snapshot in
 * anything `differsForSnapshot` looks at (a change is either published or was none), so deciding
 * whether to publish compares with the devices held before the change: no second copy is kept.
 */
export interface UserPresence {
  appId: string;
  userId: string;
  /** Version of the last snapshot published (0: none yet). */
  version: number;
  updatedAt: number;
  devices: ReadonlyMap<string, DeviceState>;
}

export interface SnapshotRules extends PresencePolicy {
  /**
   * Republish when a device's `lastSeenAt` moved this far past the published one, although
   * nothing else changed, so that the offline timer restored after a restart (and routing's own
   * offline check) is off by at most this much.
   */
  persistLastSeenMs: number;
  /** Drop devices offline for longer than this (0: keep them for ever). */
  forgetAfterMs: number;
  /**
   * The most devices a user keeps (PRESENCE_MAX_DEVICES_PER_USER; undefined: no cap). Over it,
   * devices are evicted in the order of `evictionOrder`, so that one user's snapshot stays small.
   */
  maxDevices?: number;
}

/** The outcome of a change: the new user (undefined: forgotten) and what to publish, if anything. */
export interface UserChange {
  user: UserPresence | undefined;
  /** A new snapshot, `null` for a tombstone, undefined when nothing needs publishing. */
  snapshot?: PresenceUserState | null;
  /** Devices dropped because the user went over `maxDevices` (absent: none). */
  evicted?: string[];
}

export const emptyUser = (appId: string, userId: string): UserPresence => ({
  appId,
  userId,
  version: 0,
  updatedAt: 0,
  devices: new Map(),
});

export function fromSnapshot(s: PresenceUserState): UserPresence {
  const devices = new Map(
    s.devices.map((d) => {
      const state = fromSnapshotDevice(d);
      return [d.deviceId, { ...state, persistedLastSeenAt: state.lastSeenAt }] as const;
    }),
  );
  return {
    appId: s.appId,
    userId: s.userId,
    version: s.version,
    updatedAt: Date.parse(s.updatedAt),
    devices,
  };
}

export function toSnapshot(u: UserPresence, devices = u.devices): PresenceUserState {
  return {
    appId: u.appId,
    userId: u.userId,
    version: u.version,
    updatedAt: new Date(u.updatedAt).toISOString(),
    devices: [...devices.values()]
      .sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0))
      .map(toSnapshotDevice),
  };
}

function needsSnapshot(
  before: ReadonlyMap<string, DeviceState>,
  devices: ReadonlyMap<string, DeviceState>,
  rules: SnapshotRules,
) {
  if (devices.size !== before.size) return true;
  for (const [id, d] of devices) {
    const p = before.get(id);
    if (!p || differsForSnapshot(p, d)) return true;
    if (d.lastSeenAt - (d.persistedLastSeenAt ?? -Infinity) >= rules.persistLastSeenMs) return true;
  }
  return false;
}

/**
 * Which devices go first when a user is over the device cap: devices the current events did not
 * name before those they did (the device just reported stays, as the registry never evicts the
 * device being registered), `offline` ones before the others (evicting them changes no routing
 * decision that matters: routing treats an unknown device as `push_online`, and an offline device
 * is normally unregistered too), then the least recently seen, then by id (deterministic).
 */
export function evictionOrder(
  devices: Iterable<DeviceState>,
  named: ReadonlySet<string> = new Set(),
): DeviceState[] {
  const rank = (d: DeviceState) =>
    (named.has(d.deviceId) ? 2 : 0) + (d.status === 'offline' ? 0 : 1);
  return [...devices].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      a.lastSeenAt - b.lastSeenAt ||
      (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0),
  );
}

/** Drops devices over the cap (in `evictionOrder`); returns their ids. */
function enforceCap(
  devices: Map<string, DeviceState>,
  max: number | undefined,
  named: ReadonlySet<string>,
): string[] {
  if (max === undefined || devices.size <= max) return [];
  const evicted = evictionOrder(devices.values(), named)
    .slice(0, devices.size - max)
    .map((d) => d.deviceId);
  for (const id of evicted) devices.delete(id);
  return evicted;
}

/**
 * Settles a user after events or timers: applies the timers at `now`, forgets long-offline
 * devices, enforces the device cap (`named`: the devices the events being applied named), and
 * decides whether to publish (a new version, or a tombstone once no device is left).
 */
export function settle(
  u: UserPresence,
  devices: Map<string, DeviceState>,
  now: number,
  rules: SnapshotRules,
  watchingSince = 0,
  named: ReadonlySet<string> = new Set(),
): UserChange {
  for (const [id, d] of devices) {
    const e = expire(d, now, rules, watchingSince);
    if (
      rules.forgetAfterMs > 0 &&
      e.status === 'offline' &&
      now - e.lastSeenAt >= rules.forgetAfterMs
    ) {
      devices.delete(id);
    } else if (e !== d) devices.set(id, e);
  }
  const evicted = enforceCap(devices, rules.maxDevices, named);
  const change = decide(u, devices, now, rules);
  return evicted.length ? { ...change, evicted } : change;
}

/** Whether the settled devices need publishing: a new version, a tombstone, or nothing. */
function decide(
  u: UserPresence,
  devices: Map<string, DeviceState>,
  now: number,
  rules: SnapshotRules,
): UserChange {
  if (devices.size === 0) {
    // Nothing was ever published for it: nothing to delete downstream either.
    return u.version === 0 ? { user: undefined } : { user: undefined, snapshot: null };
  }
  if (!needsSnapshot(u.devices, devices, rules)) return { user: { ...u, devices } };
  for (const [id, d] of devices) devices.set(id, { ...d, persistedLastSeenAt: d.lastSeenAt });
  const published: UserPresence = { ...u, version: u.version + 1, updatedAt: now, devices };
  return { user: published, snapshot: toSnapshot(published) };
}

/** Applies a user's events (in order) and settles. The input user is never modified. */
export function applyEvents(
  u: UserPresence,
  events: DeviceEventInput[],
  now: number,
  rules: SnapshotRules,
  watchingSince = 0,
): UserChange {
  const devices = new Map(u.devices);
  const named = new Set<string>();
  for (const e of events) {
    devices.set(e.deviceId, applyEvent(devices.get(e.deviceId), e));
    named.add(e.deviceId);
  }
  return settle(u, devices, now, rules, watchingSince, named);
}

/** True when a timer of one of the user's devices has run out (cheap: allocates nothing). */
export function isDue(
  u: UserPresence,
  now: number,
  rules: SnapshotRules,
  watchingSince = 0,
): boolean {
  for (const d of u.devices.values()) {
    if (now >= nextDeadline(d, rules, watchingSince)) return true;
    if (
      rules.forgetAfterMs > 0 &&
      d.status === 'offline' &&
      now - d.lastSeenAt >= rules.forgetAfterMs
    ) {
      return true;
    }
  }
  return false;
}

/** The timers alone (the periodic sweep). */
export function sweep(
  u: UserPresence,
  now: number,
  rules: SnapshotRules,
  watchingSince = 0,
): UserChange {
  return settle(u, new Map(u.devices), now, rules, watchingSince);
}

/**
 * A snapshot read back from the changelog: taken when it is newer than what is held (a restore, or
 * a previous owner's last words); our own snapshots coming back carry a version already held.
 */
export function restoreFrom(
  held: UserPresence | undefined,
  s: PresenceUserState,
): UserPresence | undefined {
  if (held && held.version >= s.version) return undefined;
  return fromSnapshot(s);
}
