import type {
  DeviceEventType,
  DevicePresence,
  Platform,
  PresenceDeviceEvent,
  PresenceStatus,
} from '@app/contracts';

/** Timers of one app (heartbeat timeout is a service setting, offlineAfterDays an app policy). */
export interface PresencePolicy {
  heartbeatTimeoutMs: number;
  offlineAfterMs: number;
}

export type AppState = 'foreground' | 'background';
export type OfflineReason = 'logged_out' | 'not_seen';

/**
 * One device as presence holds it. Everything is derivable from a published snapshot entry
 * (`fromSnapshot`), so the machine restores from its changelog without hidden state.
 */
export interface DeviceState {
  deviceId: string;
  platform: Platform;
  status: PresenceStatus;
  /** Epoch ms of the last status change or app report (foreground/background). */
  since: number;
  /** Epoch ms of the newest event applied: events are ordered by it and every timer runs from it. */
  lastSeenAt: number;
  unreadCount: number | null;
  /** The app state last reported. A new session (connect after logout) starts in the foreground. */
  app: AppState;
  /** The IM connection is open as far as we know; only matters while the app is in the foreground. */
  connected: boolean;
  offlineReason: OfflineReason | null;
  /**
   * Bookkeeping of the snapshot layer, carried along untouched by the machine: the `lastSeenAt`
   * the last snapshot published for this device (undefined: never published).
   */
  persistedLastSeenAt?: number;
}

/** The fields of an event the machine reads, with `at` already parsed. */
export interface DeviceEventInput {
  deviceId: string;
  platform: Platform;
  type: DeviceEventType;
  at: number;
  unreadCount?: number | null;
}

export const toEventInput = (e: PresenceDeviceEvent): DeviceEventInput => ({
  deviceId: e.deviceId,
  platform: e.platform,
  type: e.type,
  at: Date.parse(e.at),
  unreadCount: e.unreadCount,
});

/** online needs both: the app in the foreground and a live connection. */
function statusOf(s: Pick<DeviceState, 'offlineReason' | 'app' | 'connected'>): PresenceStatus {
  if (s.offlineReason) return 'offline';
  return s.app === 'foreground' && s.connected ? 'online' : 'push_online';
}

/**
 * Traffic of a session that has already logged out (a last heartbeat racing the logout call, the
 * close that follows it) must not bring the device back: only a new session (`connected`) or an
 * app report does.
 */
const STALE_AFTER_LOGOUT: ReadonlySet<DeviceEventType> = new Set(['heartbeat', 'disconnected']);

/**
 * Applies one event as of its own `at`. An event older than the newest one applied changes
 * nothing, so out-of-order delivery never overrides newer state; every event's effect is
 * idempotent, so a duplicate (or a redelivered batch, which repeats events in the same order)
 * leaves the state as it was. Timers are not applied here: call `expire` with the clock.
 */
export function applyEvent(prev: DeviceState | undefined, e: DeviceEventInput): DeviceState {
  if (prev && e.at < prev.lastSeenAt) return prev;
  if (prev?.offlineReason === 'logged_out' && STALE_AFTER_LOGOUT.has(e.type)) return prev;
  const base: DeviceState = prev ?? {
    deviceId: e.deviceId,
    platform: e.platform,
    status: 'push_online',
    since: e.at,
    lastSeenAt: e.at,
    unreadCount: null,
    app: 'foreground',
    connected: false,
    offlineReason: null,
  };
  const next: DeviceState = { ...base, lastSeenAt: e.at, offlineReason: null };
  let reported = false;
  switch (e.type) {
    case 'connected':
      // The gateway knows the platform of the session; HTTP reports only default it.
      next.platform = e.platform;
      next.connected = true;
      if (prev?.offlineReason === 'logged_out') {
        next.app = 'foreground';
        next.unreadCount = null;
      }
      break;
    case 'heartbeat':
      next.connected = true;
      break;
    case 'foreground':
      // The app says it is on screen, which it can only say over a working network.
      next.app = 'foreground';
      next.connected = true;
      next.unreadCount = null;
      reported = true;
      break;
    case 'background':
      next.app = 'background';
      next.unreadCount = e.unreadCount ?? null;
      reported = true;
      break;
    case 'disconnected':
      next.connected = false;
      break;
    case 'logged_out':
      next.offlineReason = 'logged_out';
      next.connected = false;
      next.app = 'foreground';
      next.unreadCount = null;
      break;
  }
  // Canonical form (what a snapshot restores): the connection is not tracked in the background.
  if (next.app === 'background') next.connected = false;
  next.status = statusOf(next);
  if (!prev || next.status !== prev.status || reported) next.since = e.at;
  return next;
}

/**
 * Applies the timers at `now`: a foreground device silent for the heartbeat timeout becomes
 * `push_online`; a device not seen for the offline period becomes `offline`. The heartbeat timer
 * runs from `max(lastSeenAt, watchingSince)`: an instance that has just taken a partition over has
 * not watched its devices and gives each one a full timeout before declaring its connection lost.
 * `since` is the moment the timer ran out, not the moment it was noticed, so every instance and
 * every sweep computes the same state.
 */
export function expire(
  s: DeviceState,
  now: number,
  policy: PresencePolicy,
  watchingSince = 0,
): DeviceState {
  if (s.status === 'offline') return s;
  const offlineAt = s.lastSeenAt + policy.offlineAfterMs;
  if (now >= offlineAt) {
    return {
      ...s,
      status: 'offline',
      offlineReason: 'not_seen',
      connected: false,
      since: offlineAt,
    };
  }
  if (s.status === 'online') {
    const lostAt = Math.max(s.lastSeenAt, watchingSince) + policy.heartbeatTimeoutMs;
    if (now >= lostAt) return { ...s, status: 'push_online', connected: false, since: lostAt };
  }
  return s;
}

/** The earliest moment `expire` would change this device (Infinity: never). */
export function nextDeadline(s: DeviceState, policy: PresencePolicy, watchingSince = 0): number {
  if (s.status === 'offline') return Infinity;
  const offlineAt = s.lastSeenAt + policy.offlineAfterMs;
  if (s.status !== 'online') return offlineAt;
  return Math.min(offlineAt, Math.max(s.lastSeenAt, watchingSince) + policy.heartbeatTimeoutMs);
}

export function toSnapshotDevice(s: DeviceState): DevicePresence {
  return {
    deviceId: s.deviceId,
    platform: s.platform,
    status: s.status,
    since: new Date(s.since).toISOString(),
    lastSeenAt: new Date(s.lastSeenAt).toISOString(),
    unreadCount: s.unreadCount,
    app: s.app,
    ...(s.offlineReason ? { offlineReason: s.offlineReason } : {}),
  };
}

/**
 * The machine state behind a snapshot entry. In the foreground the connection is open exactly when
 * the device is online; in the background it does not matter (only `foreground` or a logout leaves
 * the background, and both set it). Entries written without `app` are read as foreground.
 */
export function fromSnapshotDevice(d: DevicePresence): DeviceState {
  const offlineReason = d.status === 'offline' ? (d.offlineReason ?? 'not_seen') : null;
  return {
    deviceId: d.deviceId,
    platform: d.platform,
    status: d.status,
    since: Date.parse(d.since),
    lastSeenAt: Date.parse(d.lastSeenAt),
    unreadCount: d.unreadCount ?? null,
    app:
      d.app ?? (d.status === 'push_online' && d.unreadCount != null ? 'background' : 'foreground'),
    connected: d.status === 'online',
    offlineReason,
  };
}

/**
 * True when two states differ in something a snapshot must carry: what routing reads (status,
 * unread count, since) or what the machine needs to restore (app state, offline reason, platform).
 * `lastSeenAt` alone does not count: heartbeats that change nothing else publish nothing.
 */
export function differsForSnapshot(a: DeviceState, b: DeviceState): boolean {
  return (
    a.status !== b.status ||
    a.since !== b.since ||
    a.unreadCount !== b.unreadCount ||
    a.app !== b.app ||
    a.offlineReason !== b.offlineReason ||
    a.platform !== b.platform
  );
}
