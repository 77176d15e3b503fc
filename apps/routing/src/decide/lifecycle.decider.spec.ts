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
const read = (
  peer: string,
  deviceId: string | null,
  readAt = '2026-11-26T05:00:03.000Z',
  userId = 'bob',
): Caused<ImConversationRead> => ({
  value: { appId: 'demo', userId, conversation: { type: 'c2c', id: peer }, readAt, deviceId },
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
      // Sent (fixture sentAt) one second before it was pushed.
      {
        d: expect.any(String),
        t: T0 / 1000,
        c: 'c2c:alice',
        v: { 'iphone-1': 1, 'pixel-1': 1 },
        s: 1,
      },
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

  it('a repeat the dedupe list forgot is still known from the push memory', () => {
    const o = { ...opts(), dedupeWindow: 1, dedupeSeconds: 0 };
    run(state, [msg('m-1')], o);
    run(state, [msg('m-2', 'carol')], { ...o, now: new Date(T0 + 1000) });
    const repeat = run(state, [msg('m-1')], { ...o, now: new Date(T0 + 2000) });
    expect(repeat.records).toEqual([]);
    expect(repeat.tally.duplicates).toBe(1);
    expect(state.badges.get('demo:bob')!.pushes.map((p) => p.c)).toEqual([
      'c2c:alice',
      'c2c:carol',
    ]);
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
    // carol's pushes are kept, read (increments 0, the reader left out, synced).
    expect(b.pushes.map((p) => [p.c, p.v, p.r])).toEqual([
      ['c2c:carol', { 'iphone-1': 0 }, 1],
      ['c2c:carol', { 'iphone-1': 0 }, 1],
      ['c2c:dave', { 'iphone-1': 1, 'pixel-1': 1 }, undefined],
    ]);
    expect(b.readSyncAt).toBe((T0 + 1000) / 1000);
  });

  it('a read leaves the pushes sent after it unread (reads and intents lag independently)', () => {
    // e-1 sent and pushed at T0; e-2 sent at T0+19 s, pushed at T0+20 s; the read (readAt T0+5 s)
    // is applied at T0+30 s.
    const late = msg('e-2', 'erin');
    (late.value as any).message.sentAt = new Date(T0 + 19000).toISOString();
    run(state, [msg('e-1', 'erin')]);
    run(state, [late], opts(app(), T0 + 20000));
    const r = decideReads(
      [read('erin', 'pixel-1', new Date(T0 + 5000).toISOString())],
      state,
      readOpts(T0 + 30000),
    );
    commit(r);
    const b = state.badges.get('demo:bob')!;
    // 3 carol/dave + 2 erin = 5; less e-1 only.
    expect([b.devices.get('iphone-1')?.count, b.devices.get('pixel-1')?.count]).toEqual([4, 4]);
    expect(b.pushes.filter((p) => p.c === 'c2c:erin').map((p) => p.r)).toEqual([1, undefined]);
    expect(of(r.records, TOPICS.apnsRequest)[0].payload.aps.badge).toBe(4);
    // A recall of e-2 still finds it and lowers the badge by its push.
    const recalled = run(state, [recall('e-2', 'erin')], opts(app(), T0 + 31000));
    expect(of(recalled.records, TOPICS.apnsRequest)[0].payload.aps.badge).toBe(3);
  });

  it('a recall after a read still replaces the notification, without a second badge change', () => {
    commit(decideReads([read('carol', 'pixel-1')], state, readOpts()));
    const r = run(state, [recall('c-1', 'carol')], opts(app(), T0 + 2000));
    const apns = of(r.records, TOPICS.apnsRequest);
    expect(apns).toHaveLength(1); // the reading device left the entry
    expect(apns[0]).toMatchObject({
      deviceId: 'iphone-1',
      collapseId: 'c-1',
      payload: { aps: { alert: { body: 'Recalled' }, badge: 1 } },
    });
    expect(state.badges.get('demo:bob')!.devices.get('iphone-1')?.count).toBe(1);
    expect(of(run(state, [recall('c-1', 'carol')]).records, TOPICS.apnsRequest)).toEqual([]);
  });

  it('a read-sync push fits 4 KB whatever the conversation ids', () => {
    const conv = (i: number) => `${i}`.padEnd(128, '群');
    const pushes = Array.from({ length: 20 }, (_, i): Caused<PushIntentEvent> => {
      const m = msg(`g-${i}`);
      (m.value as any).message.conversation = { type: 'group', id: conv(i), name: 'G' };
      return m;
    });
    run(state, pushes);
    const reads = Array.from({ length: 20 }, (_, i) => {
      const r = read('x', null);
      r.value.conversation = { type: 'group', id: conv(i) };
      return r;
    });
    const r = decideReads(reads, state, readOpts());
    const apns = of(r.records, TOPICS.apnsRequest);
    const fcm = of(r.records, TOPICS.fcmRequest);
    expect([apns.length, fcm.length]).toEqual([1, 1]);
    expect(Buffer.byteLength(JSON.stringify(apns[0].payload))).toBeLessThanOrEqual(4096);
    expect(Buffer.byteLength(JSON.stringify(fcm[0].message.data))).toBeLessThanOrEqual(4096);
    // The newest conversations, newest last, as many as fit.
    const named: string[] = apns[0].payload.conversations;
    expect(named.length).toBeGreaterThan(1);
    expect(named[named.length - 1]).toBe(`group:${conv(19)}`);
    expect(named).toEqual(
      reads.slice(20 - named.length).map((x) => `group:${x.value.conversation.id}`),
    );
    expect(() => r.records.map(encodeOutbound)).not.toThrow();
  });

  it('a read of a conversation with nothing remembered changes nothing', () => {
    const r = decideReads([read('erin', 'pixel-1')], state, readOpts());
    expect(r.records).toEqual([]);
    expect(r.tally).toEqual({ pushed: 0, owed: 0, quiet: 1 });
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

  it('inside the interval a read lowers the badge at once, its sync goes out with a later read', () => {
    commit(decideReads([read('carol', 'pixel-1')], state, readOpts(T0 + 1000)));
    const early = decideReads([read('dave', 'pixel-1')], state, readOpts(T0 + 5000));
    commit(early);
    expect(early.handled).toBe(1);
    expect(of(early.records, TOPICS.apnsRequest)).toEqual([]); // rate-limited: no push now
    expect(early.tally).toEqual({ pushed: 0, owed: 1, quiet: 0 });
    const b = state.badges.get('demo:bob')!;
    expect([b.devices.get('iphone-1')?.count, b.devices.get('pixel-1')?.count]).toEqual([0, 0]);
    // The next chat push carries the right badge (0 + 1).
    const next = run(state, [msg('f-1', 'frank')], opts(app(), T0 + 6000));
    expect(of(next.records, TOPICS.apnsRequest)[0].payload.aps.badge).toBe(1);
    // The next read after the interval (even of nothing unread) sends the owed sync.
    const later = decideReads([read('carol', 'pixel-1')], state, readOpts(T0 + 11000));
    commit(later);
    const [sync] = of(later.records, TOPICS.apnsRequest);
    expect(sync.payload).toEqual({
      aps: { 'content-available': 1, badge: 1 },
      type: 'read',
      conversation: 'c2c:dave',
      conversations: ['c2c:dave'],
    });
    expect(later.tally).toEqual({ pushed: 1, owed: 0, quiet: 0 });
    expect(decideReads([read('carol', 'pixel-1')], state, readOpts(T0 + 30000)).records).toEqual(
      [],
    );
  });

  it("one user's rate limit never holds another user's reads", () => {
    state.applyTokens('demo:carol', tokens([iphone(), pixel()], {}, 'carol'));
    run(state, [{ value: { ...(msg('x-1').value as any), userId: 'carol' } }]);
    commit(decideReads([read('carol', 'pixel-1')], state, readOpts(T0 + 1000)));
    const r = decideReads(
      [read('dave', 'pixel-1'), read('alice', 'pixel-1', undefined, 'carol')],
      state,
      readOpts(T0 + 2000),
    );
    expect(r.handled).toBe(2);
    expect(of(r.records, TOPICS.apnsRequest).map((x) => x.userId)).toEqual(['carol']);
  });

  it('stops at the output budget and hands back the rest', () => {
    const r = decideReads([read('carol', null), read('dave', null)], state, {
      ...readOpts(),
      maxOutputBytes: 1,
    });
    expect(r.handled).toBe(1);
  });
});
