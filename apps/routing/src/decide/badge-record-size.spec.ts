/* eslint-disable @typescript-eslint/no-explicit-any -- records are inspected as plain JSON */
import {
  BadgeStateSchema,
  MAX_BADGE_RECORD_BYTES,
  TOPICS,
  type PushIntentEvent,
} from '@app/contracts';
import { AppsRegistry } from '@app/config';
import { encodeOutbound } from '@app/kafka';
import {
  message,
  pixel,
  tokens,
} from '../../../../libs/routing-rules/test-fixtures/routing.fixtures';
import { RoutingEnvSchema } from '../routing-env.schema';
import { DecideState } from './decide.state';
import { decideIntents, type Caused } from './intent.decider';

/**
 * The largest `routing.badge-state.v1` record routing writes: every id at its longest in the
 * characters that cost the most bytes of UTF-8 JSON (U+0800, 3 bytes), the push memory and the
 * dedupe list at their highest settings, a push per message to every device.
 */
const wide = (i: number, n = 128) => `${i}`.padEnd(n, '\u0800');
const T0 = Date.parse('2026-11-26T05:00:01.000Z');
const apps = new AppsRegistry({
  apps: [
    {
      id: 'demo',
      apiKeys: [`sha256:${'0'.repeat(64)}`],
      policy: { suppressWhenOnlineElsewhere: false, offlineAfterDays: 7 },
    },
  ],
});

function fill(devices: number, pushes: number) {
  const state = new DecideState();
  state.applyTokens(
    'demo:bob',
    tokens(Array.from({ length: devices }, (_, i) => pixel({ deviceId: wide(i), token: `t${i}` }))),
  );
  let last: ReturnType<typeof decideIntents> | undefined;
  for (let i = 0; i < pushes; i++) {
    const intent: Caused<PushIntentEvent> = {
      value: {
        appId: 'demo',
        userId: 'bob',
        message: message({
          messageId: wide(i, 256),
          conversation: { type: 'group', id: wide(i), name: 'G' },
          sender: { userId: 'alice', nickname: 'a' },
          offlinePush: { apns: { collapseId: 'k'.repeat(64) } },
        }),
        fanoutAt: '2026-11-26T05:00:00.500Z',
      },
    };
    last = decideIntents([intent], state, {
      now: new Date(T0 + i * 1000),
      dedupeWindow: 256,
      dedupeSeconds: 600,
      app: (id) => apps.get(id),
      memory: { count: 256, seconds: 28 * 86400 },
    });
    state.commitBadges(last.badges);
  }
  const record = last!.records.find((r) => r.topic.name === TOPICS.routingBadgeState.name)!;
  return { state, record, bytes: Buffer.byteLength(JSON.stringify(record.value)) };
}

describe("a user's badge-state record at the caps", () => {
  it('the highest settings: 256 pushes remembered, 256 digests for dedupe', () => {
    const env = RoutingEnvSchema.shape;
    expect(env.ROUTING_PUSH_MEMORY.safeParse('257').success).toBe(false);
    expect(env.ROUTING_DEDUPE_WINDOW.safeParse('256').success).toBe(true);
  });

  it('20 devices with the longest ids and 256 pushes: under the byte budget, oldest pushes dropped', () => {
    const { state, record, bytes } = fill(20, 256);
    expect(bytes).toBeLessThanOrEqual(MAX_BADGE_RECORD_BYTES);
    expect(() => encodeOutbound(record)).not.toThrow();
    const pushes = (record.value as any).pushes as unknown[];
    expect(pushes.length).toBeGreaterThan(16); // the default memory always fits
    expect(pushes.length).toBeLessThan(256);
    // Memory holds what the record says (a restore gives the same memory).
    expect(state.badges.get('demo:bob')!.pushes).toEqual(pushes);
    expect(BadgeStateSchema.safeParse(record.value).success).toBe(true);
  });

  it('100 devices (the registry cap) fit too: fewer pushes are remembered (4 of 16 at the longest ids)', () => {
    const { record, bytes } = fill(100, 16);
    expect(bytes).toBeLessThanOrEqual(MAX_BADGE_RECORD_BYTES);
    expect(() => encodeOutbound(record)).not.toThrow();
  });

  it('records written before `s`, `r` and the device cap still parse', () => {
    const old = {
      appId: 'demo',
      userId: 'bob',
      updatedAt: '2026-11-26T05:00:01.000Z',
      devices: { a: 1 },
      pushes: [{ d: 'q8Ck9bVh1fW0Yz3L', t: 1795971000, c: 'c2c:alice', v: { a: 1 } }],
    };
    expect(BadgeStateSchema.safeParse(old).success).toBe(true);
  });
});
