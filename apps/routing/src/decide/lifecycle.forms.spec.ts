/* eslint-disable @typescript-eslint/no-explicit-any -- records are inspected as plain JSON */
import {
  TOPICS,
  type ImConversationRead,
  type PushIntentEvent,
  type RegisteredDevice,
} from '@app/contracts';
import { AppsRegistry, type AppConfig } from '@app/config';
import { encodeOutbound } from '@app/kafka';
import {
  iphone,
  message,
  pixel,
  presence,
  tokens,
} from '../../../../libs/routing-rules/test-fixtures/routing.fixtures';
import { DecideState } from './decide.state';
import { decideIntents, type Caused, type DecideOptions } from './intent.decider';
import { jobIdFor } from './job-id.util';
import { recallJobKey } from './lifecycle.decider';
import { decideReads } from './read-sync.decider';

// Review 15, findings 4, 5, 6, 8, 9, 10, 11, 14 and 15: the form of a recall (and a read sync)
// follows how the message was shown; the badge follows what the device already reported.

const app = (over: Partial<AppConfig> = {}) =>
  new AppsRegistry({
    apps: [
      {
        id: 'demo',
        apiKeys: [`sha256:${'0'.repeat(64)}`],
        policy: { suppressWhenOnlineElsewhere: false, offlineAfterDays: 7 },
        texts: { recalled: { default: 'Recalled' } },
        ...over,
      },
    ],
  });
const T0 = Date.parse('2026-11-26T05:00:01.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const opts = (apps = app(), at = T0): DecideOptions => ({
  now: new Date(at),
  dedupeWindow: 16,
  app: (id) => apps.get(id),
  memory: { count: 32, seconds: 86400 },
});
const msg = (
  messageId: string,
  offlinePush?: Record<string, unknown>,
  from = 'alice',
  userId = 'bob',
): Caused<PushIntentEvent> => ({
  value: {
    appId: 'demo',
    userId,
    message: message({
      messageId,
      conversation: { type: 'c2c', id: from },
      sender: { userId: from, nickname: from },
      recipients: [userId],
      ...(offlinePush ? { offlinePush: offlinePush } : {}),
    }),
    fanoutAt: '2026-11-26T05:00:00.500Z',
  },
});
const recall = (messageId: string, userId = 'bob', recalledAt = iso(T0 + 1000)) => ({
  value: {
    kind: 'recall' as const,
    appId: 'demo',
    userId,
    recall: { messageId, conversation: { type: 'c2c' as const, id: 'alice' }, recalledAt },
    fanoutAt: iso(T0 + 1100),
  },
});
const read = (
  peer: string,
  deviceId: string | null,
  readAt: string,
): Caused<ImConversationRead> => ({
  value: {
    appId: 'demo',
    userId: 'bob',
    conversation: { type: 'c2c', id: peer },
    readAt,
    deviceId,
  },
});
const of = (rs: { topic: { name: string }; value: unknown }[], topic: { name: string }) =>
  rs.filter((r) => r.topic.name === topic.name).map((r) => r.value as Record<string, any>);

function run(state: DecideState, intents: Caused<PushIntentEvent>[], o = opts()) {
  const r = decideIntents(intents, state, o);
  state.commitBadges(r.badges);
  expect(() => r.records.map(encodeOutbound)).not.toThrow();
  return r;
}
function runReads(state: DecideState, reads: Caused<ImConversationRead>[], at: number) {
  const apps = app();
  const r = decideReads(reads, state, {
    now: new Date(at),
    app: (id) => apps.get(id),
    intervalSeconds: 10,
  });
  state.commitBadges(r.badges);
  expect(() => r.records.map(encodeOutbound)).not.toThrow();
  return r;
}
const withDevices = (devices: RegisteredDevice[], settings = {}) => {
  const state = new DecideState();
  state.applyTokens('demo:bob', tokens(devices, settings));
  return state;
};

describe('finding 4: the recall takes the form the message was shown in', () => {
  it.each<[string, Partial<AppConfig>, Record<string, unknown> | undefined, object]>([
    ['the app is id-only', { privacy: 'id_only' }, undefined, {}],
    ['the user is id-only', {}, undefined, { privacy: 'id_only' }],
    ['the app is data-only', { fcm: { dataOnly: true } } as any, undefined, {}],
    ['the message was data-only', {}, { android: { dataOnly: true } }, {}],
  ])('%s: a data message, never a notification', (_, over, op, settings) => {
    const apps = app(over);
    const state = withDevices([pixel()], settings);
    const pushed = run(state, [msg('m-1', op)], opts(apps));
    expect(of(pushed.records, TOPICS.fcmRequest)[0].message.notification).toBeUndefined();
    const [fcm] = of(run(state, [recall('m-1')], opts(apps)).records, TOPICS.fcmRequest);
    expect(fcm.message).toEqual({
      android: { priority: 'high', ttl: '86400s' },
      data: { type: 'recall', messageId: 'm-1', conversation: 'c2c:alice', badge: '0' },
    });
  });

  it('the entry records a data-only message (o: 1), so a later settings change does not matter', () => {
    const state = withDevices([pixel()]);
    run(state, [msg('m-1', { android: { dataOnly: true } }), msg('m-2')]);
    expect(state.badges.get('demo:bob')!.pushes.map((e) => e.o)).toEqual([1, undefined]);
  });

  it('a web device: the same webpush tag, headers, no android block and no badge', () => {
    const apps = app({ web: { icon: 'https://chat.example.com/i.png' } });
    const state = withDevices([pixel({ deviceId: 'web-1', platform: 'web' })]);
    const pushed = run(state, [msg('m-1')], opts(apps));
    const shown = of(pushed.records, TOPICS.fcmRequest)[0].message.webpush.notification;
    const [fcm] = of(run(state, [recall('m-1')], opts(apps)).records, TOPICS.fcmRequest);
    expect(fcm.message).toEqual({
      webpush: {
        headers: { TTL: '86400', Urgency: 'high' },
        notification: {
          body: 'Recalled',
          icon: 'https://chat.example.com/i.png',
          tag: shown.tag,
        },
      },
      data: { type: 'recall', messageId: 'm-1', conversation: 'c2c:alice' },
    });
  });

  it('a web device whose tag shows a newer message (or data-only): headers and data only', () => {
    const state = withDevices([pixel({ deviceId: 'web-1', platform: 'desktop' })]);
    run(state, [msg('m-1'), msg('m-2')]);
    const [fcm] = of(run(state, [recall('m-1')]).records, TOPICS.fcmRequest);
    expect(fcm.message).toEqual({
      webpush: { headers: { TTL: '86400', Urgency: 'high' } },
      data: { type: 'recall', messageId: 'm-1', conversation: 'c2c:alice' },
    });
  });
});

describe('finding 5: a shared collapse id', () => {
  it('recalling the older message sends a background push; the newer stays shown', () => {
    const state = withDevices([iphone()]);
    const k = { apns: { collapseId: 'K' } };
    run(state, [msg('m-1', k), msg('m-2', k)]);
    const [older] = of(run(state, [recall('m-1')]).records, TOPICS.apnsRequest);
    expect(older).toMatchObject({ pushType: 'background', priority: 5, collapseId: null });
    expect(older.payload).toMatchObject({ aps: { 'content-available': 1 }, recalled: ['m-1'] });
    expect(older.payload.aps.alert).toBeUndefined();
    const [newest] = of(run(state, [recall('m-2')]).records, TOPICS.apnsRequest);
    expect(newest).toMatchObject({ pushType: 'alert', collapseId: 'K' });
  });
});

describe('finding 6: a report that already reflects the read or recall', () => {
  it('a read whose device reported after readAt lowers nothing more', () => {
    const state = withDevices([iphone(), pixel()]);
    run(state, [msg('m-1')]);
    run(state, [msg('x-1', undefined, 'carol')], opts(app(), T0 + 1000)); // 2 unread
    // iPhone read alice, went to the background at T0+5 s reporting 1 (carol).
    state.applyPresence(
      'demo:bob',
      presence([{ deviceId: 'iphone-1', unreadCount: 1, since: iso(T0 + 5000) }]),
    );
    runReads(state, [read('alice', 'iphone-1', iso(T0 + 4000))], T0 + 6000);
    const b = state.badges.get('demo:bob')!;
    expect(b.devices.get('iphone-1')!.count).toBe(1);
    expect(b.devices.get('pixel-1')!.count).toBe(1); // routing's own count: 2 - 1
  });

  it('a report from before the read is still lowered', () => {
    const state = withDevices([iphone()]);
    run(state, [msg('m-1')]);
    state.applyPresence(
      'demo:bob',
      presence([{ deviceId: 'iphone-1', unreadCount: 3, since: iso(T0 + 2000) }]),
    );
    runReads(state, [read('alice', null, iso(T0 + 4000))], T0 + 6000);
    expect(state.badges.get('demo:bob')!.devices.get('iphone-1')!.count).toBe(2);
  });

  it('a recall after the device reported at or after recalledAt keeps the reported count', () => {
    const state = withDevices([iphone()]);
    run(state, [msg('m-1'), msg('m-2')]);
    state.applyPresence(
      'demo:bob',
      presence([{ deviceId: 'iphone-1', unreadCount: 1, since: iso(T0 + 3000) }]),
    );
    const r = run(state, [recall('m-1', 'bob', iso(T0 + 2000))], opts(app(), T0 + 4000));
    expect(of(r.records, TOPICS.apnsRequest)[0].payload.aps.badge).toBe(1);
    expect(state.badges.get('demo:bob')!.devices.get('iphone-1')!.count).toBe(1);
  });
});

describe('finding 8: Live Activity updates and id-only', () => {
  const la = { apns: { liveActivity: { event: 'update', contentState: { s: 'secret' } } } };
  it.each<[string, Partial<AppConfig>, object]>([
    ['the user', {}, { privacy: 'id_only' }],
    ['the app', { privacy: 'id_only' }, {}],
  ])('%s id-only: no update leaves, an outcome says why', (_, over, settings) => {
    const state = withDevices([iphone({ deviceId: 'la-1', pushType: 'liveactivity' })], settings);
    const r = run(state, [msg('m-1', la)], opts(app(over)));
    expect(of(r.records, TOPICS.apnsRequest)).toEqual([]);
    expect(of(r.records, TOPICS.pushOutcome)).toEqual([
      expect.objectContaining({ deviceId: 'la-1', status: 'suppressed', code: 'privacy_id_only' }),
    ]);
  });

  it('full privacy: the update goes out', () => {
    const state = withDevices([iphone({ deviceId: 'la-1', pushType: 'liveactivity' })]);
    expect(of(run(state, [msg('m-1', la)]).records, TOPICS.apnsRequest)).toHaveLength(1);
  });
});

describe('finding 9: a message that left the badge alone (badgeMode 1)', () => {
  it('its recall and its read sync send no badge', () => {
    const state = withDevices([iphone(), pixel()]);
    state.applyPresence('demo:bob', presence([{ deviceId: 'iphone-1', unreadCount: 7 }]));
    run(state, [msg('m-1', { apns: { badgeMode: 1 } }), msg('m-2', { apns: { badgeMode: 1 } })]);
    const [apns] = of(run(state, [recall('m-1')]).records, TOPICS.apnsRequest);
    expect(apns.payload.aps).not.toHaveProperty('badge');
    const r = runReads(state, [read('alice', 'pixel-1', iso(T0 + 2000))], T0 + 3000);
    expect(of(r.records, TOPICS.apnsRequest)[0].payload.aps).toEqual({ 'content-available': 1 });
  });
});

describe('finding 10: a background APNs device', () => {
  it('gets the background form of the recall, never an alert', () => {
    const state = withDevices([iphone({ pushType: 'background' })]);
    run(state, [msg('m-1')]);
    const [apns] = of(run(state, [recall('m-1')]).records, TOPICS.apnsRequest);
    expect(apns).toMatchObject({ pushType: 'background', priority: 5, collapseId: null });
    expect(apns.payload.aps.alert).toBeUndefined();
  });
});

describe('finding 11: a recall for a user routing knows nothing of', () => {
  it('no device and no state: no changelog record, no state', () => {
    const state = withDevices([iphone()]);
    const r = run(state, [recall('m-9', 'zed')]);
    expect(r.records).toEqual([]);
    expect(state.badges.has('demo:zed')).toBe(false);
    expect(r.tally.recallsEmpty).toBe(1);
  });

  it('a user with devices still remembers the recall against a late message', () => {
    const state = withDevices([iphone()]);
    run(state, [recall('m-1')]);
    expect(run(state, [msg('m-1')]).tally.duplicates).toBe(1);
  });
});

describe('finding 14: lifecycle job ids never collide with message ids', () => {
  it('the recall of m-1 and a message with id "recall:m-1" have different job ids', () => {
    const state = withDevices([iphone()]);
    run(state, [msg('m-1')]);
    const pushed = run(state, [msg('recall:m-1')]);
    const recalled = run(state, [recall('m-1')]);
    const [a] = of(pushed.records, TOPICS.apnsRequest);
    const [b] = of(recalled.records, TOPICS.apnsRequest);
    expect(a.jobId).not.toBe(b.jobId);
    expect(b.jobId).toBe(jobIdFor('demo', recallJobKey('m-1'), 'bob', 'iphone-1'));
  });

  it('the read sync of c2c:alice and a message with id "read:c2c:alice:<readAt>" too', () => {
    const state = withDevices([iphone(), pixel()]);
    const readAt = iso(T0 + 2000);
    const pushed = run(state, [msg(`read:c2c:alice:${readAt}`)]);
    const synced = runReads(state, [read('alice', 'pixel-1', readAt)], T0 + 3000);
    const [a] = of(pushed.records, TOPICS.apnsRequest);
    const [b] = of(synced.records, TOPICS.apnsRequest);
    expect(b.deviceId).toBe('iphone-1');
    expect(a.jobId).not.toBe(b.jobId);
  });
});

describe('finding 15: a message and its recall in one batch', () => {
  it('the message is not pushed; other users and messages are', () => {
    const state = withDevices([iphone()]);
    state.applyTokens('demo:carol', tokens([iphone()], {}, 'carol'));
    const r = run(state, [
      msg('m-1'),
      msg('m-1', undefined, 'alice', 'carol'),
      msg('m-2'),
      recall('m-1'),
    ]);
    const apns = of(r.records, TOPICS.apnsRequest);
    expect(apns.map((x) => [x.userId, x.messageId])).toEqual([
      ['carol', 'm-1'],
      ['bob', 'm-2'],
    ]);
    expect(r.tally).toMatchObject({ duplicates: 1, recallsEmpty: 1 });
    expect(run(state, [msg('m-1')]).tally.duplicates).toBe(1);
  });
});
