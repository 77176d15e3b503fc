import type { DeviceEventType } from '@app/contracts';
import {
  applyEvent,
  expire,
  fromSnapshotDevice,
  nextDeadline,
  toSnapshotDevice,
  type DeviceEventInput,
  type DeviceState,
} from './device-presence.machine';

const T0 = Date.parse('2026-11-26T05:00:00.000Z');
const S = 1000;
const DAY = 86_400 * S;
const policy = { heartbeatTimeoutMs: 400 * S, offlineAfterMs: 7 * DAY };

const ev = (type: DeviceEventType, at: number, unreadCount?: number): DeviceEventInput => ({
  deviceId: 'd1',
  platform: 'ios',
  type,
  at,
  unreadCount,
});

/** Replays events from nothing (each applied at its own time). */
const run = (...events: DeviceEventInput[]): DeviceState =>
  events.reduce<DeviceState | undefined>((s, e) => applyEvent(s, e), undefined)!;

type Row = [string, DeviceEventInput[], DeviceEventType, number | undefined, string, number | null];

describe('device presence state machine', () => {
  // Every (state, event) pair: the state reached by `setup`, then the event at T0 + 100 s.
  const states: Record<string, DeviceEventInput[]> = {
    'online (foreground, connected)': [ev('connected', T0)],
    'push_online (background)': [ev('connected', T0), ev('background', T0 + S, 4)],
    'push_online (disconnected in the foreground)': [
      ev('connected', T0),
      ev('disconnected', T0 + S),
    ],
    'offline (logged out)': [ev('connected', T0), ev('logged_out', T0 + S)],
  };
  const expected: Record<string, Record<DeviceEventType, [string, number | null]>> = {
    'online (foreground, connected)': {
      connected: ['online', null],
      heartbeat: ['online', null],
      foreground: ['online', null],
      background: ['push_online', 7],
      disconnected: ['push_online', null],
      logged_out: ['offline', null],
    },
    'push_online (background)': {
      // A connection in the background (a wake-up) does not make the user look at the app.
      connected: ['push_online', 4],
      heartbeat: ['push_online', 4],
      foreground: ['online', null],
      background: ['push_online', 7],
      disconnected: ['push_online', 4],
      logged_out: ['offline', null],
    },
    'push_online (disconnected in the foreground)': {
      connected: ['online', null],
      heartbeat: ['online', null],
      foreground: ['online', null],
      background: ['push_online', 7],
      disconnected: ['push_online', null],
      logged_out: ['offline', null],
    },
    'offline (logged out)': {
      // A new session starts in the foreground; leftovers of the old one change nothing.
      connected: ['online', null],
      heartbeat: ['offline', null],
      foreground: ['online', null],
      background: ['push_online', 7],
      disconnected: ['offline', null],
      logged_out: ['offline', null],
    },
  };
  const rows: Row[] = Object.entries(states).flatMap(([name, setup]) =>
    (Object.keys(expected[name]) as DeviceEventType[]).map((type): Row => [
      name,
      setup,
      type,
      type === 'background' ? 7 : undefined,
      expected[name][type][0],
      expected[name][type][1],
    ]),
  );

  it.each(rows)('%s + %s', (_name, setup, type, unread, status, unreadCount) => {
    const s = applyEvent(run(...setup), ev(type, T0 + 100 * S, unread));
    expect(s.status).toBe(status);
    expect(s.unreadCount).toBe(unreadCount);
  });

  it.each<[DeviceEventType, string]>([
    ['connected', 'online'],
    ['heartbeat', 'online'],
    ['foreground', 'online'],
    ['background', 'push_online'],
    ['disconnected', 'push_online'],
    ['logged_out', 'offline'],
  ])('a first %s creates the device %s', (type, status) => {
    const s = run(ev(type, T0));
    expect(s).toMatchObject({ status, since: T0, lastSeenAt: T0, platform: 'ios' });
  });

  it('advances lastSeenAt on every event but keeps since while the status holds', () => {
    const s = run(
      ev('connected', T0),
      ev('heartbeat', T0 + 120 * S),
      ev('heartbeat', T0 + 240 * S),
    );
    expect(s).toMatchObject({ status: 'online', since: T0, lastSeenAt: T0 + 240 * S });
  });

  it('moves since on app reports even when the status holds (the badge baseline changes)', () => {
    const s = run(ev('background', T0, 2), ev('background', T0 + 10 * S, 5));
    expect(s).toMatchObject({ status: 'push_online', since: T0 + 10 * S, unreadCount: 5 });
  });

  it('ignores an event older than the newest applied (out of order)', () => {
    const newer = run(ev('connected', T0), ev('background', T0 + 60 * S, 3));
    const after = applyEvent(newer, ev('foreground', T0 + 30 * S));
    expect(after).toBe(newer);
    expect(applyEvent(run(ev('logged_out', T0 + 60 * S)), ev('connected', T0))).toMatchObject({
      status: 'offline',
    });
  });

  it('is unchanged by duplicates, and a redelivered run ends where the first did', () => {
    const events = [ev('connected', T0), ev('background', T0 + S, 3), ev('foreground', T0 + 2 * S)];
    const once = run(...events);
    expect(applyEvent(once, events[2])).toEqual(once);
    expect(run(...events, ...events)).toEqual(once);
    const bg = run(ev('background', T0, 3));
    expect(applyEvent(bg, ev('background', T0, 3))).toEqual(bg);
  });

  it('takes the platform from connected events, not from app reports of a known device', () => {
    const s = run({ ...ev('connected', T0), platform: 'android' }, ev('background', T0 + S, 1));
    expect(s.platform).toBe('android');
  });

  describe('timers (fake clock)', () => {
    const online = run(ev('connected', T0));

    it('flips an online device to push_online once the heartbeat timeout has passed', () => {
      expect(expire(online, T0 + 399 * S, policy)).toBe(online);
      const lost = expire(online, T0 + 400 * S, policy);
      expect(lost).toMatchObject({ status: 'push_online', since: T0 + 400 * S, connected: false });
      expect(nextDeadline(online, policy)).toBe(T0 + 400 * S);
    });

    it('keeps a device online while heartbeats arrive every 120 s', () => {
      let s = online;
      for (let t = 120; t <= 3600; t += 120) {
        s = expire(applyEvent(s, ev('heartbeat', T0 + t * S)), T0 + (t + 119) * S, policy);
        expect(s.status).toBe('online');
      }
    });

    it('brings a timed-out device back online with its next heartbeat', () => {
      const lost = expire(online, T0 + 500 * S, policy);
      const back = applyEvent(lost, ev('heartbeat', T0 + 510 * S));
      expect(back).toMatchObject({ status: 'online', since: T0 + 510 * S });
    });

    it('gives a device a full timeout from when the instance started watching it', () => {
      const watching = T0 + 1000 * S;
      expect(expire(online, T0 + 1300 * S, policy, watching).status).toBe('online');
      expect(expire(online, T0 + 1400 * S, policy, watching)).toMatchObject({
        status: 'push_online',
        since: T0 + 1400 * S,
      });
    });

    it('does not time out the connection of a backgrounded device (it is push_online already)', () => {
      const bg = run(ev('background', T0, 1));
      expect(expire(bg, T0 + DAY, policy)).toBe(bg);
    });

    it('makes a device offline (not_seen) after the offline period, whatever its status', () => {
      for (const s of [online, run(ev('background', T0, 1)), run(ev('disconnected', T0))]) {
        expect(expire(s, T0 + 7 * DAY - 1, policy).status).not.toBe('offline');
        expect(expire(s, T0 + 7 * DAY, policy)).toMatchObject({
          status: 'offline',
          offlineReason: 'not_seen',
          since: T0 + 7 * DAY,
        });
      }
    });

    it('revives a not_seen device with any event, unlike a logged-out one', () => {
      const gone = expire(online, T0 + 8 * DAY, policy);
      expect(applyEvent(gone, ev('heartbeat', T0 + 8 * DAY)).status).toBe('online');
      const out = run(ev('logged_out', T0));
      expect(applyEvent(out, ev('heartbeat', T0 + S)).status).toBe('offline');
      expect(nextDeadline(out, policy)).toBe(Infinity);
    });
  });

  describe('snapshot entries', () => {
    const cases: Record<string, DeviceState> = {
      online: run(ev('connected', T0)),
      background: run(ev('connected', T0), ev('background', T0 + S, 9)),
      disconnected: run(ev('connected', T0), ev('disconnected', T0 + S)),
      timedOut: expire(run(ev('connected', T0)), T0 + 500 * S, policy),
      loggedOut: run(ev('logged_out', T0)),
      notSeen: expire(run(ev('background', T0, 1)), T0 + 8 * DAY, policy),
    };

    it.each(Object.entries(cases))('restores %s exactly from its entry', (_n, s) => {
      expect(fromSnapshotDevice(toSnapshotDevice(s))).toEqual(s);
    });

    it.each<[DeviceEventType, string]>([
      ['heartbeat', 'timedOut'],
      ['connected', 'background'],
      ['heartbeat', 'loggedOut'],
      ['foreground', 'notSeen'],
    ])('a restored machine answers %s on %s as the original would', (type, name) => {
      const s = cases[name];
      const e = ev(type, T0 + 9 * DAY);
      expect(applyEvent(fromSnapshotDevice(toSnapshotDevice(s)), e)).toEqual(applyEvent(s, e));
    });
  });
});
