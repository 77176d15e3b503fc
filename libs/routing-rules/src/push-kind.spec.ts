import type { z } from 'zod';
import { ImMessageSentSchema } from '@app/contracts';
import { iphone, message, pixel, presence, tokens } from '../test-fixtures/routing.fixtures';
import { decideDevices, type AppPolicy, type DecisionInput } from './decision.rules';
import { messageKind, SILENT_RULES } from './push-kind';

const NOW = new Date('2026-11-26T05:00:10.000Z');
const POLICY: AppPolicy = { suppressWhenOnlineElsewhere: false, offlineAfterDays: 7 };

type Apns = NonNullable<NonNullable<z.input<typeof ImMessageSentSchema>['offlinePush']>['apns']>;
const withApns = (apns: Apns, extra: object = {}) => message({ offlinePush: { apns, ...extra } });
const chat = message();
const call = withApns({ pushType: 'voip' });
const update = (activityIds?: string[]) =>
  withApns({ liveActivity: { event: 'update', contentState: { eta: 5 }, activityIds } });

const alertPhone = iphone({ deviceId: 'alert' });
const voipPhone = iphone({ deviceId: 'voip', pushType: 'voip' });
const backgroundPhone = iphone({ deviceId: 'bg', pushType: 'background' });
const activity1 = iphone({ deviceId: 'la-1', pushType: 'liveactivity' });
const activity2 = iphone({ deviceId: 'la-2', pushType: 'liveactivity' });
const android = pixel({ deviceId: 'android' });
const all = tokens([alertPhone, voipPhone, backgroundPhone, activity1, activity2, android]);

type Row = { name: string; input: Partial<DecisionInput>; expected: string[] };

/** Per device of `all` in order (alert, voip, background, la-1, la-2, android), then extras. */
const rows: Row[] = [
  {
    name: 'a chat message: alert, background and FCM devices; never the VoIP or activity tokens',
    input: { message: chat },
    expected: ['push', 'not_a_call', 'push', 'live_activity_token', 'live_activity_token', 'push'],
  },
  {
    name: 'a call: the VoIP device and FCM; alert and background devices suppressed',
    input: { message: call },
    expected: [
      'call_needs_voip',
      'push',
      'call_needs_voip',
      'live_activity_token',
      'live_activity_token',
      'push',
    ],
  },
  {
    name: 'a Live Activity update: every activity token of the user, nothing else',
    input: { message: update() },
    expected: [
      'not_live_activity_token',
      'not_live_activity_token',
      'not_live_activity_token',
      'push',
      'push',
      'not_live_activity_token',
    ],
  },
  {
    name: 'a Live Activity update naming activityIds: only those tokens',
    input: { message: update(['la-2']) },
    expected: [
      'not_live_activity_token',
      'not_live_activity_token',
      'not_live_activity_token',
      'not_live_activity_token',
      'push',
      'not_live_activity_token',
    ],
  },
  {
    name: 'an update without a matching activity token: one outcome without a device',
    input: { message: update(['la-9']), tokens: tokens([alertPhone, activity1]) },
    expected: ['not_live_activity_token', 'not_live_activity_token', 'no_live_activity'],
  },
  {
    name: 'a chat message to a user with activity tokens only: no_device',
    input: { message: chat, tokens: tokens([activity1]) },
    expected: ['live_activity_token', 'no_device'],
  },
  {
    name: 'a call to a user with alert devices only: suppressed, with its own code',
    input: { message: call, tokens: tokens([alertPhone]) },
    expected: ['call_needs_voip'],
  },
  {
    name: 'a call follows presence: an online VoIP device is reached by the IM connection',
    input: {
      message: call,
      tokens: tokens([voipPhone]),
      presence: presence([{ deviceId: 'voip', status: 'online' }]),
    },
    expected: ['online'],
  },
  {
    name: 'a call follows the mute rules …',
    input: {
      message: call,
      tokens: tokens([voipPhone], { conversations: { 'c2c:alice': 'receive_not_notify' } }),
    },
    expected: ['receive_not_notify'],
  },
  {
    name: '… unless bypassMute',
    input: {
      message: withApns({ pushType: 'voip' }, { bypassMute: true }),
      tokens: tokens([voipPhone], { conversations: { 'c2c:alice': 'receive_not_notify' } }),
    },
    expected: ['push'],
  },
  {
    name: 'an activity update is state: presence and mute rules do not apply',
    input: {
      message: update(),
      policy: { ...POLICY, suppressWhenOnlineElsewhere: true },
      tokens: tokens([activity1], {
        snoozeUntil: '2026-11-26T06:00:00.000Z',
        conversations: { 'c2c:alice': 'receive_not_notify' },
      }),
      presence: presence([
        { deviceId: 'la-1', status: 'online' },
        { deviceId: 'desktop', status: 'online' },
      ]),
    },
    expected: ['push'],
  },
  {
    name: 'an activity update respects push turned off',
    input: { message: update(), tokens: tokens([activity1], { pushEnabled: false }) },
    expected: ['push_disabled'],
  },
  {
    name: 'an activity update respects pushFlag 1',
    input: {
      message: withApns({ liveActivity: { event: 'end', contentState: {} } }, { pushFlag: 1 }),
      tokens: tokens([activity1, alertPhone]),
    },
    expected: ['push_flag', 'not_live_activity_token'],
  },
  {
    name: 'an explicit pushType alert is a chat message',
    input: { message: withApns({ pushType: 'alert' }), tokens: tokens([alertPhone, voipPhone]) },
    expected: ['push', 'not_a_call'],
  },
];

describe('device kinds (calls, Live Activities)', () => {
  it.each(rows)('$name', ({ input, expected }) => {
    const verdicts = decideDevices({
      message: chat,
      userId: 'bob',
      tokens: all,
      presence: presence([]),
      policy: POLICY,
      now: NOW,
      ...input,
    });
    expect(verdicts.map((v) => (v.push ? 'push' : v.rule))).toEqual(expected);
  });

  it('tells the kind of a message', () => {
    expect([chat, call, update()].map(messageKind)).toEqual(['chat', 'call', 'live_activity']);
  });

  it('keeps only the activity-token rules silent (no outcome)', () => {
    expect([...SILENT_RULES].sort()).toEqual(['live_activity_token', 'not_live_activity_token']);
  });
});

describe('contract of the message kinds', () => {
  const parse = (apns: Apns) => ImMessageSentSchema.safeParse({ ...chat, offlinePush: { apns } });
  const issues = (apns: Apns) => {
    const r = parse(apns);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it.each<[string, Apns, string]>([
    [
      'a call cannot update a Live Activity',
      { pushType: 'voip', liveActivity: { event: 'update', contentState: {} } },
      'offlinePush.apns.liveActivity: a call (pushType "voip") cannot also update a Live Activity',
    ],
    [
      'a call is priority 10',
      { pushType: 'voip', priority: 5 },
      'offlinePush.apns.priority: a call (pushType "voip") is sent with priority 10',
    ],
    [
      'content-state is bounded in bytes of JSON (1,108 characters, 2,208 bytes)',
      { liveActivity: { event: 'update', contentState: { s: 'é'.repeat(1100) } } },
      'offlinePush.apns.liveActivity.contentState: at most 2048 bytes of JSON (is 2208)',
    ],
    [
      'dismissal-date only ends an activity',
      { liveActivity: { event: 'update', contentState: {}, dismissalDate: 1_800_000_000 } },
      'offlinePush.apns.liveActivity.dismissalDate: only with event "end"',
    ],
  ])('%s', (_name, apns, issue) => {
    expect(issues(apns)).toEqual([issue]);
  });

  it.each<[string, Apns, string]>([
    ['priority 1', { priority: 1 as 5 }, 'offlinePush.apns.priority'],
    ['pushType background', { pushType: 'background' as 'alert' }, 'offlinePush.apns.pushType'],
    [
      '21 activity ids',
      {
        liveActivity: {
          event: 'update',
          contentState: {},
          activityIds: Array.from({ length: 21 }, (_, i) => `la-${i}`),
        },
      },
      'offlinePush.apns.liveActivity.activityIds',
    ],
    [
      'a date in milliseconds',
      { liveActivity: { event: 'end', contentState: {}, staleDate: Date.now() } },
      'offlinePush.apns.liveActivity.staleDate',
    ],
  ])('refuses %s', (_name, apns, field) => {
    expect(issues(apns).map((i) => i.split(':')[0])).toEqual([field]);
  });

  it('accepts a bounded activity update, a call and a priority', () => {
    for (const apns of [
      { pushType: 'voip' as const, priority: 10 as const },
      { priority: 5 as const },
      {
        liveActivity: {
          event: 'end' as const,
          contentState: { s: 'x'.repeat(2000) },
          dismissalDate: 1_800_000_000,
          staleDate: 1_800_000_000,
          relevanceScore: 50,
          activityIds: ['la-1'],
          alert: { title: 'Delivered', body: 'Your order arrived' },
        },
      },
    ]) {
      expect(issues(apns)).toEqual([]);
    }
  });
});
