/* eslint-disable @typescript-eslint/no-explicit-any -- records are inspected as plain JSON */
import { TOPICS, type PushIntent } from '@app/contracts';
import { AppsRegistry } from '@app/config';
import { encodeOutbound } from '@app/kafka';
import {
  iphone,
  message,
  pixel,
  tokens,
} from '../../../../libs/routing-rules/test-fixtures/routing.fixtures';
import { DecideState } from './decide.state';
import { decideIntents, type Caused, type DecideOptions } from './intent.decider';

const apps = new AppsRegistry({
  apps: [
    {
      id: 'demo',
      apiKeys: [`sha256:${'0'.repeat(64)}`],
      policy: { suppressWhenOnlineElsewhere: false, offlineAfterDays: 7 },
      apns: {
        teamId: 'TEAM123456',
        keyId: 'KEY1234567',
        keyFile: '/dev/null',
        topics: ['com.example.app'],
        environments: ['production'],
      },
    },
  ],
});
const opts: DecideOptions = {
  now: new Date('2026-11-26T05:00:01.000Z'),
  dedupeWindow: 16,
  app: (id) => apps.get(id),
};
const intent = (m: ReturnType<typeof message>): Caused<PushIntent> => ({
  value: { appId: 'demo', userId: 'bob', message: m, fanoutAt: '2026-11-26T05:00:00.500Z' },
});
type Records = ReturnType<typeof decideIntents>['records'];
const byTopic = (rs: Records, name: string) =>
  rs.filter((r) => r.topic.name === name).map((r) => r.value as Record<string, any>);
const outcomes = (rs: Records) =>
  byTopic(rs, TOPICS.pushOutcome.name).map((o) => [o.deviceId, o.status, o.code]);

const alertPhone = iphone({ deviceId: 'alert', token: 'a'.repeat(64) });
const voipPhone = iphone({ deviceId: 'voip', token: 'b'.repeat(64), pushType: 'voip' });
// Registered with the bundle id: routing adds the push type's suffix.
const activity = iphone({
  deviceId: 'la-1',
  token: 'c'.repeat(64),
  pushType: 'liveactivity',
  topic: null,
});
const android = pixel({ deviceId: 'android' });

describe('decide: calls, Live Activities, priority', () => {
  let state: DecideState;
  beforeEach(() => {
    state = new DecideState();
    state.applyTokens('demo:bob', tokens([alertPhone, voipPhone, activity, android]));
  });

  it('a chat message: the alert and FCM devices; the VoIP device suppressed; the activity token silent', () => {
    const r = decideIntents([intent(message())], state, opts);
    const apns = byTopic(r.records, TOPICS.apnsRequest.name);
    expect(apns.map((a) => [a.deviceId, a.pushType, a.topic])).toEqual([
      ['alert', 'alert', 'com.example.chat'],
    ]);
    expect(byTopic(r.records, TOPICS.fcmRequest.name).map((f) => f.deviceId)).toEqual(['android']);
    expect(outcomes(r.records)).toEqual([['voip', 'suppressed', 'not_a_call']]);
  });

  it('a call: VoIP push to the VoIP device (.voip, priority 10, 30 s), FCM data message, no badge', () => {
    const call = message({
      elements: [{ type: 'text', text: 'Incoming call' }],
      offlinePush: { apns: { pushType: 'voip' } },
    });
    const r = decideIntents([intent(call)], state, opts);
    const [voip, ...others] = byTopic(r.records, TOPICS.apnsRequest.name);
    expect(others).toEqual([]);
    expect(voip).toMatchObject({
      deviceId: 'voip',
      topic: 'com.example.chat.voip',
      pushType: 'voip',
      priority: 10,
      expiresAt: '2026-11-26T05:00:30.000Z',
      payload: { type: 'call', messageId: 'm-1', body: 'Incoming call' },
    });
    expect(voip.payload.aps).toBeUndefined();
    const [fcm] = byTopic(r.records, TOPICS.fcmRequest.name);
    expect(fcm.message).toEqual({
      android: { priority: 'high', ttl: '29s' },
      data: expect.objectContaining({ type: 'call', messageId: 'm-1', body: 'Incoming call' }),
    });
    expect(fcm.expiresAt).toBe('2026-11-26T05:00:30.000Z');
    expect(outcomes(r.records)).toEqual([['alert', 'suppressed', 'call_needs_voip']]);
    // No badge counted, but the call is remembered: its repeat is dropped.
    const [badge] = byTopic(r.records, TOPICS.routingBadgeState.name);
    expect(badge.devices).toEqual({});
    expect(() => r.records.map(encodeOutbound)).not.toThrow();
    r.badges.forEach((b, key) => state.badges.set(key, b));
    const again = decideIntents([intent(call)], state, opts);
    expect(again.tally.duplicates).toBe(1);
    expect(again.records).toEqual([]);
  });

  it('a call decided after its 30 s is expired, not rung', () => {
    const call = message({ offlinePush: { apns: { pushType: 'voip' } } });
    const late = { ...opts, now: new Date('2026-11-26T05:00:31.000Z') };
    const r = decideIntents([intent(call)], state, late);
    expect(byTopic(r.records, TOPICS.apnsRequest.name)).toEqual([]);
    expect(outcomes(r.records)).toEqual([
      ['alert', 'suppressed', 'call_needs_voip'],
      ['voip', 'expired', 'ttl_elapsed'],
      ['android', 'expired', 'ttl_elapsed'],
    ]);
  });

  it.each([
    [undefined, undefined, 5],
    [undefined, { title: 'Arriving', body: 'Sam is outside' }, 10],
    [10, undefined, 10],
  ] as const)(
    'a Live Activity update (priority %s, alert %j) goes to the activity token only, priority %i',
    (priority, alert, expected) => {
      const m = message({
        offlinePush: {
          apns: {
            priority,
            liveActivity: { event: 'update', contentState: { eta: 5 }, alert },
          },
        },
      });
      const r = decideIntents([intent(m)], state, opts);
      const apns = byTopic(r.records, TOPICS.apnsRequest.name);
      expect(apns).toHaveLength(1);
      expect(apns[0]).toMatchObject({
        deviceId: 'la-1',
        topic: 'com.example.app.push-type.liveactivity',
        pushType: 'liveactivity',
        priority: expected,
        payload: { aps: { event: 'update', 'content-state': { eta: 5 } } },
      });
      expect(byTopic(r.records, TOPICS.fcmRequest.name)).toEqual([]);
      expect(outcomes(r.records)).toEqual([]); // the other devices are not its targets: silent
      expect(byTopic(r.records, TOPICS.routingBadgeState.name)[0].devices).toEqual({});
      expect(() => r.records.map(encodeOutbound)).not.toThrow();
    },
  );

  it('offlinePush.apns.priority sets apns-priority of a chat push; background devices keep 5', () => {
    state.applyTokens(
      'demo:bob',
      tokens([
        alertPhone,
        iphone({ deviceId: 'bg', token: 'd'.repeat(64), pushType: 'background' }),
      ]),
    );
    const priorities = (p: 5 | 10 | undefined) =>
      byTopic(
        decideIntents(
          [intent(message({ messageId: `m-${p}`, offlinePush: { apns: { priority: p } } }))],
          state,
          opts,
        ).records,
        TOPICS.apnsRequest.name,
      ).map((a) => [a.deviceId, a.priority]);
    expect(priorities(undefined)).toEqual([
      ['alert', 10],
      ['bg', 5],
    ]);
    expect(priorities(5)).toEqual([
      ['alert', 5],
      ['bg', 5],
    ]);
    expect(priorities(10)).toEqual([
      ['alert', 10],
      ['bg', 5],
    ]);
  });
});
