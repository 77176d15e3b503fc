import { Logger } from '@nestjs/common';
import { AppsFileSchema, AppsRegistry, loadEnv, ServiceConfig } from '@app/config';
import { TOPICS, userKey, type DeadLetter, type PresenceDeviceEvent } from '@app/contracts';
import {
  deadLetterForRecord,
  encodeOutbound,
  outbound,
  PoisonRecordException,
  ProducerBusyException,
  recordLimits,
  RetryableException,
  type ConsumedRecord,
  type EncodedRecord,
  type EventProducer,
  type RejectedRecord,
} from '@app/kafka';
import { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSProtocolError } from 'kafkajs';
import { PresenceStore } from '../state/presence.store';
import { PresenceEnvSchema, type PresenceEnv } from '../presence-env.schema';
import { PresenceService } from './presence.service';
import { CONTRACT_TOPICS } from './presence.topics';

const apps = new AppsRegistry(
  AppsFileSchema.parse({ apps: [{ id: 'demo', apiKeys: [`sha256:${'0'.repeat(64)}`] }] }),
);

/** A producer that records what it is asked to send, or fails as told. */
class FakeProducer {
  sent: EncodedRecord[] = [];
  fail: Error | undefined;
  sendEncoded(records: EncodedRecord[]): Promise<void> {
    if (this.fail) return Promise.reject(this.fail);
    this.sent.push(...records);
    return Promise.resolve();
  }
}

function service(env: Record<string, string> = {}) {
  const config = new ServiceConfig<PresenceEnv>(
    { name: 'presence', defaultPort: 0 },
    loadEnv(PresenceEnvSchema, {
      KAFKA_BROKERS: '127.0.0.1:9092',
      PUSH_APPS_FILE: '/dev/null',
      ...env,
    }),
    apps,
  );
  const producer = new FakeProducer();
  const store = new PresenceStore();
  store.assign([0], Date.now());
  const svc = new PresenceService(
    store,
    producer as unknown as EventProducer,
    apps,
    config,
    CONTRACT_TOPICS,
  );
  return { svc, producer, store };
}

let offset = 0;
const rec = (
  userId: string,
  deviceId: string,
  at = Date.now(),
): ConsumedRecord<PresenceDeviceEvent> => {
  const value: PresenceDeviceEvent = {
    appId: 'demo',
    userId,
    deviceId,
    platform: 'android',
    type: 'connected',
    at: new Date(at).toISOString(),
  };
  return {
    topic: TOPICS.presenceDeviceEvent.name,
    partition: 0,
    offset: String(offset++),
    key: userKey(value),
    value,
    headers: {},
    timestamp: String(at),
    context: { correlationId: 'c' },
  };
};

/** The dead letters the runner writes for what the handler rejected. */
const letters = (rejected: RejectedRecord[] | undefined) =>
  (rejected ?? []).map(
    (x) =>
      JSON.parse(
        String(encodeOutbound(deadLetterForRecord(x.record, x)).message.value),
      ) as DeadLetter,
  );

describe('presence service: publishing snapshots', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterEach(() => recordLimits.reset());

  it('caps the devices of a user (default 20, the registry default) and counts the evictions', async () => {
    const { svc, producer, store } = service();
    const base = Date.now() - 10_000;
    const batch = Array.from({ length: 200 }, (_, i) =>
      rec('big', `device-${String(i).padStart(3, '0')}-${'x'.repeat(100)}`, base + i),
    );
    const r = await svc.onDeviceEvents(batch, 0);
    expect(r.rejected).toEqual([]);
    const snap = JSON.parse(String(producer.sent[0].message.value));
    expect(snap.devices).toHaveLength(20);
    expect(snap.devices[0].deviceId).toMatch(/^device-180-/);
    expect(store.get(0)!.users.get('demo:big')!.devices.size).toBe(20);
  });

  it('refuses a user whose snapshot cannot fit: their events are dead-lettered, the others published', async () => {
    const { svc, producer, store } = service({ PRESENCE_MAX_DEVICES_PER_USER: '1000' });
    recordLimits.set(TOPICS.presenceUserState.name, 8192);
    const base = Date.now() - 10_000;
    const big = Array.from({ length: 60 }, (_, i) =>
      rec('big', `d${i}-${'y'.repeat(100)}`, base + i),
    );
    const batch = [rec('small', 'phone'), ...big, rec('other', 'tablet')];
    const r = await svc.onDeviceEvents(batch, 0);
    const dead = letters(r.rejected);
    expect(dead).toHaveLength(60);
    expect(new Set(dead.map((d) => d.error.code))).toEqual(new Set(['OUTPUT_TOO_LARGE']));
    expect(dead.map((d) => d.source.offset)).toEqual(big.map((b) => b.offset));
    expect(dead[0].value).toContain('"deviceId":"d0-');
    expect(producer.sent.map((s) => s.message.key)).toEqual(['demo:small', 'demo:other']);
    // Memory holds only what was published: nothing of the refused user.
    const users = store.get(0)!.users;
    expect([...users.keys()].sort()).toEqual(['demo:other', 'demo:small']);

    // The user's next batch that fits is applied normally.
    const next = await svc.onDeviceEvents([rec('big', 'one-device')], 0);
    expect(next.rejected).toEqual([]);
    expect(users.get('demo:big')!.version).toBe(1);
  });

  it('retries broker outages and a full backlog; a broker refusing the records is poison', async () => {
    const { svc, producer, store } = service();
    producer.fail = new KafkaJSConnectionError('Connection error: ECONNREFUSED');
    await expect(svc.onDeviceEvents([rec('u1', 'd')], 0)).rejects.toBeInstanceOf(
      RetryableException,
    );
    producer.fail = new ProducerBusyException(100);
    await expect(svc.onDeviceEvents([rec('u1', 'd')], 0)).rejects.toBeInstanceOf(
      ProducerBusyException,
    );
    const tooLarge = new KafkaJSProtocolError({
      type: 'MESSAGE_TOO_LARGE',
      code: 10,
      retriable: false,
      message: 'The request included a message larger than the max message size',
    } as unknown as Error);
    // kafkajs's retrier wraps a non-retriable answer, the protocol error as its cause.
    producer.fail = Object.assign(new KafkaJSNonRetriableError(tooLarge), { cause: tooLarge });
    const poison = await svc.onDeviceEvents([rec('u1', 'd')], 0).catch((e: Error) => e);
    expect(poison).toBeInstanceOf(PoisonRecordException);
    expect(poison).not.toBeInstanceOf(RetryableException);
    expect((poison as PoisonRecordException).code).toBe('OUTPUT_TOO_LARGE');
    expect(store.get(0)!.users.size).toBe(0);
  });

  it('a snapshot at the highest settable cap, with the longest ids, fits a 1 MB topic', () => {
    const id = (c: string) => c.repeat(128); // 3 bytes a character in UTF-8
    const now = new Date().toISOString();
    const snapshot = {
      appId: id('应'),
      userId: id('用'),
      version: 1,
      updatedAt: now,
      devices: Array.from({ length: 1000 }, (_, i) => ({
        deviceId: `${i}`.padStart(4, '0') + id('设').slice(4),
        platform: 'desktop' as const,
        status: 'push_online' as const,
        since: now,
        lastSeenAt: now,
        unreadCount: 1_000_000,
        app: 'background' as const,
        offlineReason: 'logged_out' as const,
      })),
    };
    recordLimits.configure(1048576);
    const encoded = encodeOutbound(outbound(TOPICS.presenceUserState, snapshot));
    expect(encoded.bytes).toBeLessThan(recordLimits.batchBudget(TOPICS.presenceUserState));
  });
});
