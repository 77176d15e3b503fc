/* eslint-disable @typescript-eslint/no-explicit-any -- records are inspected as plain JSON */
import { TOPICS, type ImConversationRead, type PushIntentEvent } from '@app/contracts';
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

const app = (over: Partial<AppConfig> = {}) =>
  new AppsRegistry({
    apps: [
      {
        id: 'demo',
        apiKeys: [`sha256:${'0'.repeat(64)}`],
        policy: { suppressWhenOnlineElsewhere: false, offlineAfterDays: 7 },
        texts: { recalled: { default: 'Recalled', zh: '已撤回' } },
        ...over,
      },
    ],
  });
const T0 = Date.parse('2026-11-26T05:00:01.000Z');
const opts = (apps = app(), at = T0): DecideOptions => ({
  now: new Date(at),
  dedupeWindow: 16,
  app: (id) => apps.get(id),
  memory: { count: 32, seconds: 86400 },
});
const msg = (messageId: string, from = 'alice'): Caused<PushIntentEvent> => ({
  value: {
    appId: 'demo',
    userId: 'bob',
    message: message({
      messageId,
      conversation: { type: 'c2c', id: from },
      sender: { userId: from, nickname: from },
    }),
    fanoutAt: '2026-11-26T05:00:00.500Z',
  },
});
const recall = (messageId: string, from = 'alice'): Caused<PushIntentEvent> => ({
  value: {
    kind: 'recall',
    appId: 'demo',
    userId: 'bob',
    recall: {
      messageId,
      conversation: { type: 'c2c', id: from },
      recalledAt: '2026-11-26T05:00:02.000Z',
    },
    fanoutAt: '2026-11-26T05:00:02.100Z',
  },
});
const read = (peer: string, deviceId: string | null): Caused<ImConversationRead> => ({
  value: {
    appId: 'demo',
    userId: 'bob',
    conversation: { type: 'c2c', id: peer },
    readAt: '2026-11-26T05:00:03.000Z',
    deviceId,
  },
});
const of = (rs: { topic: { name: string }; value: unknown }[], topic: { name: string }) =>
  rs.filter((r) => r.topic.name === topic.name).map((r) => r.value as Record<string, any>);

/** Decides and commits, as the consumer does. */
function run(state: DecideState, intents: Caused<PushIntentEvent>[], o = opts()) {
  const r = decideIntents(intents, state, o);
  state.commitBadges(r.badges);
  return r;
}

describe('recall in decide', () => {
  let state: DecideState;
  beforeEach(() => {
    state = new DecideState();
    state.applyTokens('demo:bob', tokens([iphone({ locale: 'zh-CN' }), pixel()]));
    state.applyPresence('demo:bob', presence([{ deviceId: 'iphone-1', unreadCount: 2 }]));
  });

  it('remembers each pushed message with its per-device increments', () => {
    run(state, [msg('m-1')]);
    expect(state.badges.get('demo:bob')!.pushes).toEqual([
      { d: expect.any(String), t: T0 / 1000, c: 'c2c:alice', v: { 'iphone-1': 1, 'pixel-1': 1 } },
    ]);
  });

  it('replaces the notification on every device that got it and lowers the badges once', () => {
    run(state, [msg('m-1')]);
    const r = run(state, [recall('m-1')]);
    const [apns] = of(r.records, TOPICS.apnsRequest);
    const [fcm] = of(r.records, TOPICS.fcmRequest);
    expect(apns).toMatchObject({
      jobId: jobIdFor('demo', recallJobKey('m-1'), 'bob', 'iphone-1'),
      messageId: 'm-1',
      pushType: 'alert',
      priority: 10,
      collapseId: 'm-1',
      payload: { aps: { alert: { body: '已撤回' }, badge: 2, 'thread-id': 'c2c:alice' } },
    });
    expect(fcm.message).toMatchObject({
      notification: { body: 'Recalled' },
      android: { notification: { tag: 'c2c:alice', notification_count: 0 } },
    });
    expect(() => r.records.map(encodeOutbound)).not.toThrow();
    expect(of(r.records, TOPICS.routingBadgeState)[0]).toMatchObject({
      devices: { 'iphone-1': 2, 'pixel-1': 0 },
    });
    expect(r.tally).toMatchObject({ recalls: 1, recallsEmpty: 0 });
    // Again: nothing remembered, nothing sent, nothing changed.
    const again = run(state, [recall('m-1')]);
    expect(again.records).toEqual([]);
    expect(again.tally).toMatchObject({ recalls: 0, recallsEmpty: 1 });
  });

  it('uses the collapse id the message gave', () => {
    const m = msg('m-1');
    (m.value as any).message.offlinePush = { apns: { collapseId: 'thread-7' } };
    run(state, [m]);
    const [apns] = of(run(state, [recall('m-1')]).records, TOPICS.apnsRequest);
    expect(apns.collapseId).toBe('thread-7');
  });

  it('on FCM, an older message of the conversation is removed by a data message, not replaced', () => {
    run(state, [msg('m-1'), msg('m-2')]);
    const r = run(state, [recall('m-1')]);
    const [fcm] = of(r.records, TOPICS.fcmRequest);
    expect(fcm.message).toEqual({
      android: { priority: 'high', ttl: '86400s' },
      data: { type: 'recall', messageId: 'm-1', conversation: 'c2c:alice', badge: '1' },
    });
    // APNs replaces by collapse id whatever came after.
    expect(of(r.records, TOPICS.apnsRequest)[0].collapseId).toBe('m-1');
  });

  it('with recall.mode silent: background pushes that name the message', () => {
    const silent = opts(app({ recall: { mode: 'silent' } }));
    run(state, [msg('m-1')], silent);
    const r = run(state, [recall('m-1')], silent);
    expect(of(r.records, TOPICS.apnsRequest)[0]).toMatchObject({
      pushType: 'background',
      priority: 5,
      collapseId: null,
      payload: {
        aps: { 'content-available': 1, badge: 2 },
        type: 'recall',
        recalled: ['m-1'],
        conversation: 'c2c:alice',
      },
    });
    expect(of(r.records, TOPICS.fcmRequest)[0].message.data).toEqual({
      type: 'recall',
      messageId: 'm-1',
      conversation: 'c2c:alice',
      badge: '0',
    });
  });

  it('a message intent after its recall is not pushed (late or repeated fan-out)', () => {
    const first = run(state, [recall('m-1')]);
    expect(first.records.filter((r) => r.topic.name !== TOPICS.routingBadgeState.name)).toEqual([]);
    const late = run(state, [msg('m-1')]);
    expect(late.records).toEqual([]);
    expect(late.tally.duplicates).toBe(1);
  });

  it('remembers nothing when the memory is off (the recall only stops late intents)', () => {
    run(state, [msg('m-1')], { ...opts(), memory: { count: 0, seconds: 60 } });
    expect(state.badges.get('demo:bob')!.pushes).toEqual([]);
    const r = run(state, [recall('m-1')]);
    expect(of(r.records, TOPICS.apnsRequest)).toEqual([]);
  });

  it('the memory survives a restore from the changelog', () => {
    const r = run(state, [msg('m-1')]);
    const restored = new DecideState();
    restored.applyTokens('demo:bob', tokens([iphone(), pixel()]));
    restored.applyBadgeRecord('demo:bob', of(r.records, TOPICS.routingBadgeState)[0] as any);
    expect(of(run(restored, [recall('m-1')]).records, TOPICS.apnsRequest)).toHaveLength(1);
  });
});

describe('read sync in decide', () => {
  let state: DecideState;
  beforeEach(() => {
    state = new DecideState();
    state.applyTokens('demo:bob', tokens([iphone(), pixel()]));
    run(state, [msg('c-1', 'carol'), msg('c-2', 'carol'), msg('d-1', 'dave')]);
  });
  const readOpts = (at = T0 + 1000, intervalSeconds = 10) => ({
    now: new Date(at),
    app: (id: string) => app().get(id),
    intervalSeconds,
  });
  const commit = (r: ReturnType<typeof decideReads>) => state.commitBadges(r.badges);

  it("drops the badges by the conversation's pushes and syncs the other devices", () => {
    const r = decideReads([read('carol', 'pixel-1')], state, readOpts());
    commit(r);
    const apns = of(r.records, TOPICS.apnsRequest);
    expect(apns).toHaveLength(1);
    expect(apns[0]).toMatchObject({
      deviceId: 'iphone-1',
      pushType: 'background',
      priority: 5,
      collapseId: null,
      payload: {
        aps: { 'content-available': 1, badge: 1 },
        type: 'read',
        conversation: 'c2c:carol',
        conversations: ['c2c:carol'],
      },
    });
    expect(of(r.records, TOPICS.fcmRequest)).toEqual([]); // read there
    expect(() => r.records.map(encodeOutbound)).not.toThrow();
    const b = state.badges.get('demo:bob')!;
    expect([b.devices.get('iphone-1')?.count, b.devices.get('pixel-1')?.count]).toEqual([1, 1]);
    expect(b.pushes.map((p) => p.c)).toEqual(['c2c:dave']);
    expect(b.readSyncAt).toBe((T0 + 1000) / 1000);
  });

  it('a read of a conversation with nothing remembered changes nothing', () => {
    const r = decideReads([read('erin', 'pixel-1')], state, readOpts());
    expect(r.records).toEqual([]);
    expect(r.tally).toEqual({ pushed: 0, deferred: 0, quiet: 1 });
  });

  it('coalesces the reads of one user in a batch into one push per device', () => {
    const r = decideReads([read('carol', null), read('dave', null)], state, readOpts());
    const apns = of(r.records, TOPICS.apnsRequest);
    const fcm = of(r.records, TOPICS.fcmRequest);
    expect(apns).toHaveLength(1);
    expect(fcm).toHaveLength(1);
    expect(apns[0].payload).toMatchObject({
      aps: { badge: 0 },
      conversation: 'c2c:dave',
      conversations: ['c2c:carol', 'c2c:dave'],
    });
    expect(fcm[0].message.data).toEqual({
      type: 'read',
      conversation: 'c2c:dave',
      conversations: '["c2c:carol","c2c:dave"]',
      badge: '0',
    });
  });

  it('inside the interval a read waits for its end, then goes out with the right badge', () => {
    commit(decideReads([read('carol', 'pixel-1')], state, readOpts(T0 + 1000)));
    const early = decideReads([read('dave', 'pixel-1')], state, readOpts(T0 + 5000));
    expect(early).toMatchObject({ handled: 0, records: [], deferUntil: T0 + 11000 });
    expect(early.tally.deferred).toBe(1);
    const later = decideReads([read('dave', 'pixel-1')], state, readOpts(T0 + 11000));
    commit(later);
    expect(of(later.records, TOPICS.apnsRequest)[0].payload.aps).toEqual({
      'content-available': 1,
      badge: 0,
    });
  });

  it('stops at the output budget and hands back the rest', () => {
    const r = decideReads([read('carol', null), read('dave', null)], state, {
      ...readOpts(),
      maxOutputBytes: 1,
    });
    expect(r.handled).toBe(1);
  });
});
