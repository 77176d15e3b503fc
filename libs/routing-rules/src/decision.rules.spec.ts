import {
  groupMessage,
  iphone,
  message,
  pixel,
  presence,
  tokens,
} from '../test-fixtures/routing.fixtures';
import { decideDevices, type AppPolicy, type DecisionInput } from './decision.rules';
import { inDailyWindow, secondOfDay } from './dnd-window.util';

const NOW = new Date('2026-11-26T05:00:10.000Z'); // 06:00:10 in Berlin, 00:00:10 in New York
const POLICY: AppPolicy = { suppressWhenOnlineElsewhere: false, offlineAfterDays: 7 };

type Row = {
  name: string;
  input: Partial<DecisionInput>;
  /** Per device in token order: 'push' or the rule. */
  expected: string[];
};

const twoDevices = tokens([iphone(), pixel()]);
const berlinNight = {
  startSecondOfDay: 22 * 3600,
  durationSeconds: 9 * 3600,
  timeZone: 'Europe/Berlin',
};

const rows: Row[] = [
  { name: 'pushes to every push_online device', input: {}, expected: ['push', 'push'] },
  {
    name: 'unknown presence counts as push_online',
    input: { presence: undefined },
    expected: ['push', 'push'],
  },
  {
    name: 'pushFlag 1 is online only',
    input: { message: message({ offlinePush: { pushFlag: 1 } }) },
    expected: ['push_flag', 'push_flag'],
  },
  { name: 'no registered device', input: { tokens: undefined }, expected: ['no_device'] },
  { name: 'an empty device list', input: { tokens: tokens([]) }, expected: ['no_device'] },
  {
    name: 'pushFlag wins over no device',
    input: { tokens: undefined, message: message({ offlinePush: { pushFlag: 1 } }) },
    expected: ['push_flag'],
  },
  {
    name: 'push turned off',
    input: { tokens: tokens([iphone(), pixel()], { pushEnabled: false }) },
    expected: ['push_disabled', 'push_disabled'],
  },
  {
    name: 'offline device stays quiet, the other rings',
    input: { presence: presence([{ deviceId: 'iphone-1', status: 'offline' }]) },
    expected: ['offline', 'push'],
  },
  {
    name: 'a device not seen for offlineAfterDays is offline',
    input: {
      presence: presence([{ deviceId: 'pixel-1', lastSeenAt: '2026-11-18T05:00:00.000Z' }]),
    },
    expected: ['push', 'offline'],
  },
  {
    name: 'online device: the IM connection delivers',
    input: { presence: presence([{ deviceId: 'iphone-1', status: 'online' }]) },
    expected: ['online', 'push'],
  },
  {
    name: 'suppressWhenOnlineElsewhere: any online device (even without a token) silences all',
    input: {
      policy: { ...POLICY, suppressWhenOnlineElsewhere: true },
      presence: presence([{ deviceId: 'desktop-1', platform: 'desktop', status: 'online' }]),
    },
    expected: ['online_elsewhere', 'online_elsewhere'],
  },
  {
    name: 'suppressWhenOnlineElsewhere: the online device itself says online',
    input: {
      policy: { ...POLICY, suppressWhenOnlineElsewhere: true },
      presence: presence([{ deviceId: 'iphone-1', status: 'online' }]),
    },
    expected: ['online', 'online_elsewhere'],
  },
  {
    name: 'receive_not_notify on the C2C peer',
    input: { tokens: tokens([iphone()], { conversations: { 'c2c:alice': 'receive_not_notify' } }) },
    expected: ['receive_not_notify'],
  },
  {
    name: 'a setting for another conversation does not apply',
    input: { tokens: tokens([iphone()], { conversations: { 'c2c:dave': 'receive_not_notify' } }) },
    expected: ['push'],
  },
  {
    name: 'receive_except_at without a mention',
    input: {
      message: groupMessage(),
      tokens: tokens([iphone()], { conversations: { 'group:g-7': 'receive_except_at' } }),
    },
    expected: ['receive_except_at'],
  },
  {
    name: 'receive_except_at with the user mentioned',
    input: {
      message: groupMessage({ mentions: { userIds: ['bob'] } }),
      tokens: tokens([iphone()], { conversations: { 'group:g-7': 'receive_except_at' } }),
    },
    expected: ['push'],
  },
  {
    name: 'receive_except_at with @all',
    input: {
      message: groupMessage({ mentions: { all: true } }),
      tokens: tokens([iphone()], { conversations: { 'group:g-7': 'receive_except_at' } }),
    },
    expected: ['push'],
  },
  {
    name: 'receive_except_at: someone else mentioned',
    input: {
      message: groupMessage({ mentions: { userIds: ['carol'] } }),
      tokens: tokens([iphone()], { conversations: { 'group:g-7': 'receive_except_at' } }),
    },
    expected: ['receive_except_at'],
  },
  {
    name: 'DND window in the user time zone (06:00 in Berlin, 22:00 + 9 h)',
    input: { tokens: tokens([iphone()], { dnd: berlinNight }) },
    expected: ['dnd'],
  },
  {
    name: 'same window in New York (00:00) is also on',
    input: {
      tokens: tokens([iphone()], { dnd: { ...berlinNight, timeZone: 'America/New_York' } }),
    },
    expected: ['dnd'],
  },
  {
    name: 'DND window that ended (22:00 + 8 h ends 06:00 Berlin)',
    input: {
      tokens: tokens([iphone()], { dnd: { ...berlinNight, durationSeconds: 8 * 3600 } }),
    },
    expected: ['push'],
  },
  {
    name: 'snoozed until later',
    input: { tokens: tokens([iphone()], { snoozeUntil: '2026-11-26T06:00:00.000Z' }) },
    expected: ['snooze'],
  },
  {
    name: 'snooze over',
    input: { tokens: tokens([iphone()], { snoozeUntil: '2026-11-26T04:00:00.000Z' }) },
    expected: ['push'],
  },
  {
    name: 'bypassMute skips receive options, DND and snooze',
    input: {
      message: message({ offlinePush: { bypassMute: true } }),
      tokens: tokens([iphone()], {
        conversations: { 'c2c:alice': 'receive_not_notify' },
        dnd: berlinNight,
        snoozeUntil: '2026-11-26T06:00:00.000Z',
      }),
    },
    expected: ['push'],
  },
  {
    name: 'bypassMute does not skip online',
    input: {
      message: message({ offlinePush: { bypassMute: true } }),
      presence: presence([{ deviceId: 'iphone-1', status: 'online' }]),
    },
    expected: ['online', 'push'],
  },
  {
    name: 'rule order: offline beats muted',
    input: {
      tokens: tokens([iphone()], { conversations: { 'c2c:alice': 'receive_not_notify' } }),
      presence: presence([{ deviceId: 'iphone-1', status: 'offline' }]),
    },
    expected: ['offline'],
  },
];

describe('decision rules', () => {
  it.each(rows)('$name', ({ input, expected }) => {
    const verdicts = decideDevices({
      message: message(),
      userId: 'bob',
      tokens: twoDevices,
      presence: presence([]),
      policy: POLICY,
      now: NOW,
      ...input,
    });
    expect(verdicts.map((v) => (v.push ? 'push' : v.rule))).toEqual(expected);
  });

  it('names the device each verdict is about', () => {
    const verdicts = decideDevices({
      message: message(),
      userId: 'bob',
      tokens: twoDevices,
      presence: undefined,
      policy: POLICY,
      now: NOW,
    });
    expect(verdicts.map((v) => v.device?.deviceId)).toEqual(['iphone-1', 'pixel-1']);
  });
});

describe('daily window', () => {
  it.each([
    ['2026-07-01T20:30:00Z', 'Europe/Berlin', 22 * 3600 + 30 * 60], // summer time, UTC+2
    ['2026-12-01T20:30:00Z', 'Europe/Berlin', 21 * 3600 + 30 * 60], // winter, UTC+1
    ['2026-12-01T20:30:00Z', 'Asia/Kolkata', 2 * 3600], // UTC+5:30, past midnight
    ['2026-12-01T20:30:00Z', 'Not/AZone', 20 * 3600 + 30 * 60], // unknown zone: UTC
  ])('second of day of %s in %s is %i', (at, tz, expected) => {
    expect(secondOfDay(new Date(at), tz)).toBe(expected);
  });

  it.each([
    ['23:00', true],
    ['05:59', true],
    ['06:00', false],
    ['21:59', false],
  ])('22:00 for 8 h in UTC covers %s: %s', (hhmm, expected) => {
    const at = new Date(`2026-12-01T${hhmm}:00Z`);
    expect(
      inDailyWindow(at, { startSecondOfDay: 79200, durationSeconds: 28800, timeZone: 'UTC' }),
    ).toBe(expected);
  });
});
