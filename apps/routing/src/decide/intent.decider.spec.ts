/* eslint-disable @typescript-eslint/no-explicit-any -- records are inspected as plain JSON */
import { TOPICS, type PushIntent } from '@app/contracts';
import { AppsRegistry } from '@app/config';
import { encodeOutbound } from '@app/kafka';
import {
  groupMessage,
  iphone,
  message,
  pixel,
  presence,
  tokens,
} from '../../../../libs/routing-rules/test-fixtures/routing.fixtures';
import { DecideState, badgeRecord } from './decide.state';
import {
  decideIntents,
  MAX_RECENT,
  trimRecent,
  type Caused,
  type DecideOptions,
} from './intent.decider';
import { jobIdFor } from './job-id.util';

const apps = new AppsRegistry({
  apps: [
    {
      id: 'demo',
      apiKeys: [`sha256:${'0'.repeat(64)}`],
      policy: { suppressWhenOnlineElsewhere: false, offlineAfterDays: 7 },
    },
  ],
});
const opts = (over: Partial<DecideOptions> = {}): DecideOptions => ({
  now: new Date('2026-11-26T05:00:01.000Z'),
  dedupeWindow: 16,
  app: (id) => apps.get(id),
  ...over,
});
const intent = (m = message(), userId = 'bob'): Caused<PushIntent> => ({
  value: { appId: 'demo', userId, message: m, fanoutAt: '2026-11-26T05:00:00.500Z' },
});
const byTopic = (rs: ReturnType<typeof decideIntents>['records'], name: string) =>
  rs.filter((r) => r.topic.name === name).map((r) => r.value as Record<string, any>);

describe('decideIntents', () => {
  let state: DecideState;
  beforeEach(() => {
    state = new DecideState();
    state.applyTokens('demo:bob', tokens([iphone(), pixel()]));
    state.applyPresence('demo:bob', presence([{ deviceId: 'iphone-1', unreadCount: 2 }]));
  });

  it('writes one request per ringing device, valid for its topic, with a stable job id', () => {
    const r = decideIntents([intent()], state, opts());
    const [apns] = byTopic(r.records, TOPICS.apnsRequest.name);
    const [fcm] = byTopic(r.records, TOPICS.fcmRequest.name);
    expect(apns).toMatchObject({
      jobId: jobIdFor('demo', 'm-1', 'bob', 'iphone-1'),
      deviceId: 'iphone-1',
      topic: 'com.example.chat',
      environment: 'production',
      pushType: 'alert',
      priority: 10,
      collapseId: 'm-1', // every alert has one: the message id by default (a recall replaces it)
      attempt: 0,
      createdAt: '2026-11-26T05:00:01.000Z',
      expiresAt: '2026-12-03T05:00:00.000Z',
      payload: { aps: { alert: { title: 'Alice', body: 'hello' }, badge: 3 } },
    });
    expect(apns.jobId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(fcm.message.android.notification.notification_count).toBe(1);
    expect(fcm.message.android.ttl).toBe(`${7 * 86400 - 1}s`);
    expect(() => r.records.map(encodeOutbound)).not.toThrow(); // every record passes its schema
    expect(byTopic(r.records, TOPICS.routingBadgeState.name)).toEqual([
      expect.objectContaining({ devices: { 'iphone-1': 3, 'pixel-1': 1 }, seq: 1 }),
    ]);
  });

  it('counts the badge across intents of one batch and only after commit', () => {
    const r = decideIntents(
      [intent(message({ messageId: 'a' })), intent(message({ messageId: 'b' }))],
      state,
      opts(),
    );
    const badges = byTopic(r.records, TOPICS.apnsRequest.name).map((x) => x.payload.aps.badge);
    expect(badges).toEqual([3, 4]);
    expect(state.badges.get('demo:bob')).toBeUndefined(); // not committed yet
    state.commitBadges(r.badges);
    expect(state.badges.get('demo:bob')!.devices.get('iphone-1')!.count).toBe(4);
    const again = decideIntents([intent(message({ messageId: 'c' }))], state, opts());
    expect(byTopic(again.records, TOPICS.apnsRequest.name)[0].payload.aps.badge).toBe(5);
  });

  it('drops an intent repeated by the fan-out, also after the state was restored', () => {
    const first = decideIntents([intent(), intent()], state, opts());
    expect(byTopic(first.records, TOPICS.apnsRequest.name)).toHaveLength(1);
    expect(first.tally.duplicates).toBe(1);
    const record = byTopic(first.records, TOPICS.routingBadgeState.name)[0];
    const restored = new DecideState();
    restored.applyTokens('demo:bob', tokens([iphone(), pixel()]));
    restored.applyBadgeRecord('demo:bob', record as never);
    const again = decideIntents([intent()], restored, opts());
    expect(again.records).toHaveLength(0);
  });

  it('drops a repeat that comes after more than dedupeWindow other messages, within dedupeSeconds', () => {
    const at = (seconds: number) => new Date(Date.parse('2026-11-26T05:00:00Z') + seconds * 1000);
    const o = (seconds: number) => opts({ now: at(seconds), dedupeWindow: 4, dedupeSeconds: 600 });
    const push = (id: string, seconds: number) => {
      const r = decideIntents([intent(message({ messageId: id }))], state, o(seconds));
      state.commitBadges(r.badges);
      return r;
    };
    push('first', 0);
    for (let i = 0; i < 20; i++) push(`other-${i}`, 10 + i); // a busy user: 20 others since
    expect(push('first', 60).tally.duplicates).toBe(1); // the fan-out's repeat after a restart
    // Past dedupeSeconds, the next push trims: only the newest dedupeWindow are remembered.
    push('later', 700);
    expect(push('first', 701).tally.duplicates).toBe(0);
    expect(state.badges.get('demo:bob')!.recent.length).toBeLessThanOrEqual(5);
  });

  it('never remembers more than the contract allows, and reads entries written without times', () => {
    const recent = Array.from(
      { length: 300 },
      (_, i) => `d${String(i).padStart(15, '0')}@${(1000).toString(36)}`,
    );
    trimRecent(recent, 16, 600, 1000);
    expect(recent).toHaveLength(MAX_RECENT);
    expect(recent.at(-1)).toMatch(/^d0*299@/);
    const old = ['abcdefghijklmnop'];
    trimRecent(old, 1, 600, 5000);
    expect(old).toEqual(['abcdefghijklmnop']); // kept by count
    trimRecent(old, 0, 600, 5000);
    expect(old).toEqual([]); // no time: not kept by age
  });

  it('gives every suppressed device an outcome naming its rule', () => {
    state.applyPresence('demo:bob', presence([{ deviceId: 'iphone-1', status: 'online' }]));
    const r = decideIntents(
      [intent(groupMessage({ offlinePush: { pushFlag: 0 } }))],
      state,
      opts(),
    );
    const outcomes = byTopic(r.records, TOPICS.pushOutcome.name);
    expect(outcomes).toEqual([
      expect.objectContaining({
        deviceId: 'iphone-1',
        provider: 'apns',
        status: 'suppressed',
        code: 'online',
        jobId: jobIdFor('demo', 'm-1', 'bob', 'iphone-1'),
      }),
    ]);
    expect(byTopic(r.records, TOPICS.fcmRequest.name)).toHaveLength(1);
  });

  it('an empty message is suppressed as empty_content; a user without devices as no_device', () => {
    const r = decideIntents(
      [intent(message({ elements: [{ type: 'text', text: '' }] })), intent(message(), 'nobody')],
      state,
      opts(),
    );
    expect(byTopic(r.records, TOPICS.pushOutcome.name).map((o) => [o.deviceId, o.code])).toEqual([
      ['iphone-1', 'empty_content'],
      ['pixel-1', 'empty_content'],
      [null, 'no_device'],
    ]);
    expect(r.badges.size).toBe(0);
  });

  it('rejects a device whose payload cannot fit, with the reason', () => {
    const r = decideIntents(
      [intent(message({ offlinePush: { ext: 'x'.repeat(5000) } }))],
      state,
      opts(),
    );
    const outcomes = byTopic(r.records, TOPICS.pushOutcome.name);
    expect(outcomes.map((o) => [o.status, o.code])).toEqual([
      ['rejected', 'payload_too_large'],
      ['rejected', 'payload_too_large'],
    ]);
    expect(outcomes[0].reason).toMatch(/ext 5000 bytes.*4096/);
  });

  it('never lets an older changelog record overwrite a newer count', () => {
    const r1 = decideIntents([intent(message({ messageId: 'a' }))], state, opts());
    state.commitBadges(r1.badges);
    const r2 = decideIntents([intent(message({ messageId: 'b' }))], state, opts());
    state.commitBadges(r2.badges);
    const older = badgeRecord('demo', 'bob', r1.badges.get('demo:bob')!, new Date());
    state.applyBadgeRecord('demo:bob', older); // our first write, coming back late
    expect(state.badges.get('demo:bob')!.devices.get('iphone-1')!.count).toBe(4);
  });

  it('stops taking intents once the output budget is used, and handles at least one', () => {
    const many = Array.from({ length: 50 }, (_, i) => intent(message({ messageId: `b${i}` })));
    const r = decideIntents(many, state, opts({ maxOutputBytes: 20_000 }));
    expect(r.handled).toBeGreaterThan(1);
    expect(r.handled).toBeLessThan(50);
    expect(byTopic(r.records, TOPICS.apnsRequest.name)).toHaveLength(r.handled);
    const bytes = r.records
      .map(encodeOutbound)
      .reduce((a, e) => a + Buffer.byteLength(e.message.value as string), 0);
    expect(bytes).toBeLessThan(20_000 + 5_000); // the estimate errs on the large side
    expect(decideIntents(many, state, opts({ maxOutputBytes: 1 })).handled).toBe(1);
  });
});
