import type { DeviceEventType } from '@app/contracts';
import type { DeviceEventInput } from './device-presence.machine';
import {
  applyEvents,
  emptyUser,
  fromSnapshot,
  isDue,
  restoreFrom,
  sweep,
  type SnapshotRules,
  type UserPresence,
} from './user-presence.machine';

const T0 = Date.parse('2026-11-26T05:00:00.000Z');
const S = 1000;
const DAY = 86_400 * S;
const rules: SnapshotRules = {
  heartbeatTimeoutMs: 400 * S,
  offlineAfterMs: 7 * DAY,
  persistLastSeenMs: 6 * 3600 * S,
  forgetAfterMs: 0,
};

const ev = (
  type: DeviceEventType,
  at: number,
  deviceId = 'd1',
  unread?: number,
): DeviceEventInput => ({
  deviceId,
  platform: 'ios',
  type,
  at,
  unreadCount: unread,
});

/** Applies events one at a time (each at its own time), counting the snapshots published. */
function feed(u: UserPresence, events: DeviceEventInput[], r = rules) {
  let snapshots = 0;
  for (const e of events) {
    const c = applyEvents(u, [e], e.at, r);
    if (c.snapshot !== undefined) snapshots++;
    u = c.user!;
  }
  return { user: u, snapshots };
}

describe('user presence snapshots', () => {
  const fresh = emptyUser('demo', 'bob');

  it('publishes version 1 for a new device, then only when something routing reads changes', () => {
    const first = applyEvents(fresh, [ev('connected', T0)], T0, rules);
    expect(first.snapshot).toMatchObject({ appId: 'demo', userId: 'bob', version: 1 });
    expect(first.snapshot!.devices).toEqual([
      expect.objectContaining({ deviceId: 'd1', status: 'online', app: 'foreground' }),
    ]);
    const hb = applyEvents(first.user!, [ev('heartbeat', T0 + 120 * S)], T0 + 120 * S, rules);
    expect(hb.snapshot).toBeUndefined();
    expect(hb.user!.devices.get('d1')!.lastSeenAt).toBe(T0 + 120 * S);
    const bg = applyEvents(
      hb.user!,
      [ev('background', T0 + 130 * S, 'd1', 3)],
      T0 + 130 * S,
      rules,
    );
    expect(bg.snapshot).toMatchObject({ version: 2 });
    expect(bg.snapshot!.devices[0]).toMatchObject({ status: 'push_online', unreadCount: 3 });
  });

  it('writes next to no snapshots for a day of heartbeats (one lastSeenAt refresh per 6 h)', () => {
    const start = applyEvents(fresh, [ev('connected', T0)], T0, rules).user!;
    const beats = Array.from({ length: 720 }, (_, i) => ev('heartbeat', T0 + (i + 1) * 120 * S));
    const { user, snapshots } = feed(start, beats);
    expect(snapshots).toBe(4);
    expect(user.devices.get('d1')!.status).toBe('online');
  });

  it('publishes one snapshot per batch, whatever the number of events of the user in it', () => {
    const c = applyEvents(
      fresh,
      [ev('connected', T0), ev('connected', T0, 'd2'), ev('background', T0 + S, 'd2', 1)],
      T0 + S,
      rules,
    );
    expect(c.snapshot!.version).toBe(1);
    expect(c.snapshot!.devices.map((d) => [d.deviceId, d.status])).toEqual([
      ['d1', 'online'],
      ['d2', 'push_online'],
    ]);
  });

  it('publishes nothing for duplicates and out-of-order events', () => {
    const u = applyEvents(
      fresh,
      [ev('connected', T0), ev('background', T0 + 10 * S, 'd1', 2)],
      T0 + 10 * S,
      rules,
    ).user!;
    expect(
      applyEvents(u, [ev('background', T0 + 10 * S, 'd1', 2)], T0 + 11 * S, rules).snapshot,
    ).toBeUndefined();
    expect(
      applyEvents(u, [ev('foreground', T0 + 5 * S)], T0 + 11 * S, rules).snapshot,
    ).toBeUndefined();
  });

  it('sweeps: heartbeat timeout, then offline, each published once (fake clock)', () => {
    const u = applyEvents(fresh, [ev('connected', T0)], T0, rules).user!;
    expect(isDue(u, T0 + 399 * S, rules)).toBe(false);
    expect(isDue(u, T0 + 400 * S, rules)).toBe(true);
    const lost = sweep(u, T0 + 405 * S, rules);
    expect(lost.snapshot).toMatchObject({ version: 2 });
    expect(lost.snapshot!.devices[0]).toMatchObject({
      status: 'push_online',
      since: new Date(T0 + 400 * S).toISOString(),
    });
    expect(sweep(lost.user!, T0 + 410 * S, rules).snapshot).toBeUndefined();
    expect(isDue(lost.user!, T0 + 410 * S, rules)).toBe(false);
    const gone = sweep(lost.user!, T0 + 7 * DAY, rules);
    expect(gone.snapshot!.devices[0]).toMatchObject({
      status: 'offline',
      offlineReason: 'not_seen',
    });
  });

  it('applies timers when an event arrives late (consumer lag): no stale online', () => {
    const c = applyEvents(fresh, [ev('connected', T0)], T0 + 600 * S, rules);
    expect(c.snapshot!.devices[0].status).toBe('push_online');
  });

  it('forgets long-offline devices and tombstones a user with none left, when enabled', () => {
    const r = { ...rules, forgetAfterMs: 30 * DAY };
    const u = applyEvents(
      fresh,
      [ev('connected', T0), ev('logged_out', T0 + S, 'd2')],
      T0 + S,
      r,
    ).user!;
    const one = sweep(u, T0 + 31 * DAY, { ...r, offlineAfterMs: 40 * DAY });
    expect(one.snapshot!.devices.map((d) => d.deviceId)).toEqual(['d1']);
    expect(sweep(one.user!, T0 + 71 * DAY, { ...r, offlineAfterMs: 40 * DAY })).toEqual({
      user: undefined,
      snapshot: null,
    });
    // Never published: nothing to tombstone.
    expect(sweep(emptyUser('demo', 'x'), T0, r)).toEqual({ user: undefined });
  });

  it('restores from its own snapshot, and ignores snapshots it already holds', () => {
    const c = applyEvents(fresh, [ev('connected', T0), ev('background', T0, 'd2', 4)], T0, rules);
    const restored = fromSnapshot(c.snapshot!);
    expect(restored.devices).toEqual(c.user!.devices);
    expect(restoreFrom(c.user, c.snapshot!)).toBeUndefined();
    expect(restoreFrom(undefined, c.snapshot!)).toEqual(restored);
    expect(restoreFrom(c.user, { ...c.snapshot!, version: 2 })).toMatchObject({ version: 2 });
    // After a restore, the next change continues the version sequence.
    const next = applyEvents(restored, [ev('foreground', T0 + S, 'd2')], T0 + S, rules);
    expect(next.snapshot!.version).toBe(2);
  });

  describe('device cap', () => {
    const capped = { ...rules, maxDevices: 3 };
    const held = () =>
      applyEvents(
        fresh,
        [
          ev('connected', T0, 'a'),
          ev('connected', T0 + S, 'b'),
          ev('connected', T0 + 2 * S, 'c'),
          ev('logged_out', T0 + 3 * S, 'b'),
        ],
        T0 + 3 * S,
        capped,
      ).user!;

    it('a new device over the cap evicts an offline device first, even a more recent one', () => {
      const c = applyEvents(held(), [ev('connected', T0 + 10 * S, 'd')], T0 + 10 * S, capped);
      expect(c.evicted).toEqual(['b']);
      expect(c.snapshot!.devices.map((d) => d.deviceId)).toEqual(['a', 'c', 'd']);
      expect(c.snapshot!.version).toBe(2);
    });

    it('else the least recently seen device; the device just reported is never evicted', () => {
      const u = applyEvents(held(), [ev('connected', T0 + 4 * S, 'b')], T0 + 4 * S, capped).user!;
      // An old event of a new device: it is still the one the user reports, so it stays.
      const c = applyEvents(u, [ev('connected', T0 - 60 * S, 'e')], T0 + 10 * S, capped);
      expect(c.evicted).toEqual(['a']);
      expect(c.snapshot!.devices.map((d) => d.deviceId)).toEqual(['b', 'c', 'e']);
    });

    it('a batch naming more devices than the cap keeps the most recently seen of them', () => {
      const many = Array.from({ length: 3650 }, (_, i) =>
        ev('connected', T0 + i, `dev-${String(i).padStart(4, '0')}`),
      );
      const c = applyEvents(held(), many, T0 + 3650, capped);
      expect(c.snapshot!.devices.map((d) => d.deviceId)).toEqual([
        'dev-3647',
        'dev-3648',
        'dev-3649',
      ]);
      expect(c.evicted).toHaveLength(3650);
    });

    it('changes nothing at or under the cap, and evicts nothing without one', () => {
      const c = applyEvents(held(), [ev('heartbeat', T0 + 5 * S, 'a')], T0 + 5 * S, capped);
      expect(c.evicted).toBeUndefined();
      const many = Array.from({ length: 50 }, (_, i) => ev('connected', T0 + i, `x${i}`));
      expect(applyEvents(fresh, many, T0 + 50, rules).user!.devices.size).toBe(50);
    });

    it('trims a user restored with more devices than a lowered cap at its next change', () => {
      const u = held();
      const c = sweep(u, T0 + 3 * S, { ...capped, maxDevices: 1 });
      expect(c.evicted).toEqual(['b', 'a']);
      expect(c.snapshot!.devices.map((d) => d.deviceId)).toEqual(['c']);
    });
  });
});
