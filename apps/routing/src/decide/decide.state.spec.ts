import {
  DEFAULT_PUSH_SETTINGS,
  MAX_ID_LENGTH,
  MAX_PUSH_MEMORY,
  MAX_PUSH_MEMORY_DEVICES,
  MAX_TOKEN_LENGTH,
  MAX_USER_ATTRIBUTES,
  MAX_USER_TAGS,
  TOPICS,
  type BadgeState,
  type PresenceUserState,
  type TokenUserDevices,
} from '@app/contracts';
import type { PushEntry } from '../badge/push-memory';
import { decodeAt, encodeBytes, MAX_INTERNED } from './compact.codec';
import { DecideState, type UserBadges } from './decide.state';

/** A small seeded PRNG (mulberry32): the same cases on every run. */
function rng(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  /** `n` code points of `alphabet` (never a lone surrogate), at most `max` UTF-16 units. */
  const chars = (alphabet: string, n: number, max = Infinity) => {
    const points = [...alphabet];
    let s = '';
    for (let i = 0; i < n; i++) {
      const c = points[int(points.length)];
      if (s.length + c.length > max) break;
      s += c;
    }
    return s;
  };
  return { next, int, pick, chars };
}
type Rng = ReturnType<typeof rng>;

const HEX = '0123456789abcdef';
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const PRINTABLE = Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i))
  .filter((c) => c !== '"' && c !== '\\')
  .join('');
const UNICODE = 'aé中文🙂ß\u00ff\u0100Ωж€𝄞';

/** Ids of every kind the contracts allow: ASCII, base64url-like, Latin-1, emoji, at max length. */
function id(r: Rng): string {
  const n = r.pick([1, 2, 3, 4, 9, 16, 40, MAX_ID_LENGTH]);
  switch (r.int(5)) {
    case 0:
      return r.chars(HEX, n);
    case 1:
      return r.chars(B64, n);
    case 2:
      return r.chars(UNICODE, n, MAX_ID_LENGTH);
    case 3:
      return r.chars(PRINTABLE.replace(':', ''), n);
    default:
      return `${r.pick(['ios', 'pixel', 'user', 'bob'])}-${r.int(1e9)}`;
  }
}

/** Tokens: APNs hex (either case, odd lengths), FCM-like, any printable ASCII, the longest. */
function token(r: Rng): string {
  switch (r.int(6)) {
    case 0:
      return r.chars(HEX, 64);
    case 1:
      return r.chars(HEX.toUpperCase(), 64);
    case 2:
      return `${r.chars(B64, 22)}:APA91b${r.chars(B64, 134)}`;
    case 3:
      return r.chars(HEX, r.pick([1, 3, 63]));
    case 4:
      return r.chars(PRINTABLE, r.pick([1, 5, 160, MAX_TOKEN_LENGTH]));
    default:
      return r.chars(`${B64}:`, r.pick([1, 2, 5, 200, MAX_TOKEN_LENGTH]));
  }
}

/** ISO times as toISOString writes them, and other forms the contract accepts. */
function iso(r: Rng): string {
  const ms = r.int(4102444800000);
  switch (r.int(4)) {
    case 0:
      return new Date(ms)
        .toISOString()
        .replace('.000Z', 'Z')
        .replace(/\.\d{3}Z$/, 'Z');
    case 1:
      return new Date(ms).toISOString().replace('Z', '+02:00');
    case 2:
      return '1969-12-31T23:59:59.999Z';
    default:
      return new Date(ms).toISOString();
  }
}

const nullish = <T>(r: Rng, v: () => T): T | null | undefined =>
  r.pick([0, 1, 2, 2]) === 0 ? null : r.int(3) === 0 ? undefined : v();

function withoutUndefined<T extends object>(o: T): T {
  return JSON.parse(JSON.stringify(o)) as T;
}

function tokensOf(r: Rng, appId: string, userId: string): TokenUserDevices {
  const devices = Array.from({ length: r.pick([0, 1, 2, 5]) }, () => ({
    deviceId: id(r),
    platform: r.pick(['ios', 'android', 'web', 'desktop'] as const),
    provider: r.pick(['apns', 'fcm'] as const),
    token: token(r),
    topic: nullish(r, () => r.pick(['com.example.chat', r.chars(UNICODE, 256, 256)])),
    environment: nullish(r, () => r.pick(['sandbox', 'production'] as const)),
    pushType: nullish(r, () => r.pick(['alert', 'background', 'voip', 'liveactivity'] as const)),
    locale: nullish(r, () => r.pick(['en', 'zh-Hans-CN', 'de', r.chars(B64, 35)])),
    updatedAt: iso(r),
  }));
  const conversations: Record<string, 'receive' | 'receive_not_notify' | 'receive_except_at'> = {};
  const options = r.pick([0, 3, 1000]);
  for (let i = 0; i < options; i++) {
    conversations[`${r.pick(['c2c', 'group'])}:${id(r)}`] = r.pick([
      'receive',
      'receive_not_notify',
      'receive_except_at',
    ] as const);
  }
  const tags = [...new Set(Array.from({ length: r.pick([0, 3, MAX_USER_TAGS]) }, () => id(r)))]
    .map((t) => t.replace(/[^A-Za-z0-9_.:@-]/g, 'x').slice(0, 64))
    .sort()
    .filter((t, i, all) => i === 0 || all[i - 1] !== t);
  const attributes = Object.fromEntries(
    Array.from({ length: r.pick([0, 2, MAX_USER_ATTRIBUTES]) }, (_, i) => [
      `a${i}.${r.chars(B64, 8)}`,
      r.chars(UNICODE, r.pick([0, 5, 128]), 128),
    ]),
  );
  return withoutUndefined({
    appId,
    userId,
    version: r.pick([0, 1, 127, 128, 2 ** 31, Number.MAX_SAFE_INTEGER]),
    updatedAt: iso(r),
    devices,
    settings: {
      pushEnabled: r.next() < 0.5,
      hidePreview: r.next() < 0.5,
      snoozeUntil: nullish(r, () => iso(r)),
      dnd: nullish(r, () => ({
        startSecondOfDay: r.int(86400),
        durationSeconds: 1 + r.int(86400),
        timeZone: r.pick(['UTC', 'Asia/Shanghai', 'America/Argentina/Buenos_Aires']),
      })),
      sounds: {
        c2c: nullish(r, () => r.pick(['default', 'ping.caf', r.chars(UNICODE, 256, 256)])),
        group: nullish(r, () => r.pick(['default', 'ping.caf'])),
      },
      conversations,
      privacy: nullish(r, () => r.pick(['full', 'id_only'] as const)),
    },
    ...(r.next() < 0.5 ? { tags } : {}),
    ...(r.next() < 0.5 ? { attributes } : {}),
  });
}

function presenceOf(r: Rng, appId: string, userId: string): PresenceUserState {
  return withoutUndefined({
    appId,
    userId,
    version: r.int(1e6),
    updatedAt: iso(r),
    devices: Array.from({ length: r.pick([0, 1, 2, 5]) }, () => ({
      deviceId: id(r),
      platform: r.pick(['ios', 'android', 'web', 'desktop'] as const),
      status: r.pick(['online', 'push_online', 'offline'] as const),
      since: iso(r),
      lastSeenAt: iso(r),
      unreadCount: nullish(r, () => r.pick([0, 1, 99, 1_000_000])),
      ...(r.next() < 0.5 ? { app: r.pick(['foreground', 'background'] as const) } : {}),
      ...(r.next() < 0.5 ? { offlineReason: r.pick(['logged_out', 'not_seen'] as const) } : {}),
    })),
  });
}

function pushOf(r: Rng, devices: number): PushEntry {
  const v: Record<string, number> = {};
  for (let i = 0; i < devices; i++) v[id(r)] = r.pick([0, 1, 999]);
  return {
    d: r.pick([r.chars(B64, 16), r.chars(PRINTABLE, 64)]),
    t: r.int(2 ** 32),
    c: `${r.pick(['c2c', 'group'])}:${id(r)}`,
    v,
    ...(r.next() < 0.3 ? { k: r.chars(PRINTABLE, r.pick([1, 64])) } : {}),
    ...(r.next() < 0.3 ? { o: 1 as const } : {}),
    ...(r.next() < 0.3 ? { s: r.int(366 * 86400) } : {}),
    ...(r.next() < 0.3 ? { r: r.pick([1, 2] as const) } : {}),
  };
}

function badgesOf(r: Rng, big: boolean): UserBadges {
  const devices = new Map(
    Array.from({ length: r.pick([0, 1, 2, 7]) }, () => [
      id(r),
      { count: r.pick([0, 1, 99_999]), at: iso(r) },
    ]),
  );
  const pushes = big
    ? Array.from({ length: MAX_PUSH_MEMORY }, () => pushOf(r, MAX_PUSH_MEMORY_DEVICES))
    : Array.from({ length: r.pick([0, 1, 16]) }, () => pushOf(r, r.pick([1, 2, 5])));
  return {
    seq: r.pick([0, 1, 300, Number.MAX_SAFE_INTEGER]),
    devices,
    recent: Array.from({ length: r.pick([0, 3, 256]) }, () =>
      r.pick([r.chars(B64, 16), r.chars(UNICODE, 64, 64)]),
    ),
    pushes,
    readSyncAt: r.pick([0, 1_764_000_000]),
  };
}

describe('DecideState compact records', () => {
  it('give back exactly the snapshots stored (varied devices, settings, tokens, ids)', () => {
    const r = rng(17);
    for (let i = 0; i < 120; i++) {
      const appId = id(r);
      const userId = id(r);
      const key = `${appId}:${userId}`;
      const tokens = TOPICS.tokenUserDevices.schema.parse(tokensOf(r, appId, userId));
      const presence = TOPICS.presenceUserState.schema.parse(presenceOf(r, appId, userId));
      const badges = badgesOf(r, i % 40 === 0);
      const state = new DecideState();
      // Every order of arrival, parts replaced and removed alone.
      state.applyPresence(key, presence);
      state.applyTokens(key, tokens, i % 4);
      state.commitBadges(new Map([[key, badges]]));
      expect(state.tokens.get(key)).toStrictEqual(tokens);
      expect(state.presence.get(key)).toStrictEqual(presence);
      expect(state.badges.get(key)).toStrictEqual(badges);
      // Property order too (records are written back as JSON).
      expect(JSON.stringify(state.tokens.get(key))).toBe(JSON.stringify(tokens));
      expect(JSON.stringify(state.presence.get(key))).toBe(JSON.stringify(presence));
      state.applyTokens(key, null, i % 4);
      expect(state.tokens.has(key)).toBe(false);
      expect(state.presence.get(key)).toStrictEqual(presence);
      expect(state.badges.get(key)).toStrictEqual(badges);
      expect(state.usersOf(i % 4, appId)).toEqual([]);
    }
  });

  it('gives back badge records as they were restored (pushedAt per device, else updatedAt)', () => {
    const state = new DecideState();
    const record: BadgeState = {
      appId: 'demo',
      userId: 'bob',
      updatedAt: '2026-11-26T05:00:00.000Z',
      devices: { a: 1, 'ü-b': 2 },
      seq: 4,
      pushedAt: { a: '2026-11-26T04:00:00+01:00' },
      recent: ['aaaaaaaaaaaaaaaa'],
    };
    state.applyBadgeRecord('demo:bob', record);
    expect(state.badges.get('demo:bob')).toStrictEqual({
      seq: 4,
      devices: new Map([
        ['a', { count: 1, at: '2026-11-26T04:00:00+01:00' }],
        ['ü-b', { count: 2, at: '2026-11-26T05:00:00.000Z' }],
      ]),
      recent: ['aaaaaaaaaaaaaaaa'],
      pushes: [],
      readSyncAt: 0,
    });
    state.applyBadgeRecord('demo:bob', { ...record, seq: 3, devices: {} }); // older: ignored
    expect(state.badges.get('demo:bob')?.devices.size).toBe(2);
    expect(state.badges.size).toBe(1);
    state.applyBadgeRecord('demo:bob', null);
    expect(state.badges.size).toBe(0);
  });

  it('round-trips any JSON value, -0, undefined, Maps and strings of every kind', () => {
    const r = rng(5);
    const value = (depth: number): unknown => {
      switch (r.int(depth > 3 ? 4 : 7)) {
        case 0:
          return r.pick([null, undefined, true, false]);
        case 1:
          return r.pick([0, -0, 1, -1, 127, 128, -129, 1.5, -1e-300, 2 ** 53, NaN, -Infinity]);
        case 2:
          return r.pick([
            '',
            ':',
            '::',
            'a:',
            ':b',
            'c2c:',
            'en',
            '\ud800',
            '\udfff x',
            r.chars(HEX, 1 + r.int(9)),
            r.chars(`${B64}:`, 1 + r.int(30)),
            r.chars(UNICODE, 1 + r.int(9)),
            iso(r),
            '2026-02-30T00:00:00.000Z',
            '+275760-09-13T00:00:00.000Z',
            '9999-12-31T23:59:59.999Z',
          ]);
        case 3:
          return id(r);
        case 4:
          return Array.from({ length: r.int(4) }, () => value(depth + 1));
        case 5:
          return new Map(Array.from({ length: r.int(4) }, () => [id(r), value(depth + 1)]));
        default:
          return Object.fromEntries(
            Array.from({ length: r.int(5) }, () => [
              r.pick([id(r), 'topic', 'locale', 'token', '__proto__x']),
              value(depth + 1),
            ]),
          );
      }
    };
    for (let i = 0; i < 2000; i++) {
      const v = value(0);
      const seeds = [id(r), id(r)];
      const header = r.pick([0, 1, 300, Number.MAX_SAFE_INTEGER]);
      const s = Buffer.from(encodeBytes(header, v, seeds)).toString('latin1');
      expect(decodeAt(s, 0, seeds)).toStrictEqual([header, v]);
    }
  });

  it('keeps round-tripping once the intern table is full', () => {
    const state = new DecideState();
    const base = TOPICS.tokenUserDevices.schema.parse({
      ...tokensOf(rng(9), 'demo', 'bob'),
      settings: DEFAULT_PUSH_SETTINGS,
    });
    for (let i = 0; i < MAX_INTERNED + 10; i++) {
      const t = { ...base, devices: [{ ...iphoneLike(), topic: `com.example.app${i}` }] };
      state.applyTokens('demo:bob', t);
      expect(state.tokens.get('demo:bob')).toStrictEqual(t);
    }
  });

  it("indexes a partition's users with tokens, sorted, through removals and moves", () => {
    const state = new DecideState();
    const t = (userId: string) =>
      TOPICS.tokenUserDevices.schema.parse(tokensOf(rng(1), 'demo', userId));
    state.applyTokens('demo:c', t('c'), 1);
    state.applyTokens('demo:a', t('a'), 1);
    state.applyTokens('other:z', t('z'), 1);
    state.applyTokens('demo:b', t('b'), 2);
    state.applyPresence('demo:d', presenceOf(rng(2), 'demo', 'd')); // no tokens: not a user of 1
    expect(state.usersOf(1, 'demo')).toEqual(['demo:a', 'demo:c']);
    state.applyTokens('demo:a', null, 1);
    state.applyTokens('demo:b', t('b'), 1); // moved
    state.applyTokens('demo:c', t('c'), 1); // updated: still once
    expect(state.usersOf(1, 'demo')).toEqual(['demo:b', 'demo:c']);
    expect(state.usersOf(2, 'demo')).toEqual([]);
    state.applyTokens('demo:a', t('a'), 1); // back
    state.applyTokens('demo:a', t('a'), 1);
    expect(state.usersOf(1, 'demo')).toEqual(['demo:a', 'demo:b', 'demo:c']);
    expect(state.usersOf(1, 'other')).toEqual(['other:z']);
    expect(state.tokens.size).toBe(4);
    state.clear();
    expect([state.tokens.size, state.presence.size, state.usersOf(1, 'demo')]).toEqual([0, 0, []]);
  });
});

function iphoneLike() {
  return {
    deviceId: 'iphone-1',
    platform: 'ios' as const,
    provider: 'apns' as const,
    token: 'ab'.repeat(32),
    updatedAt: '2026-11-26T05:00:00.000Z',
  };
}
