import {
  TOPICS,
  type PresenceUserState,
  type RegisteredDevice,
  type TokenUserDevices,
} from '@app/contracts';
import { EventProducer, outbound } from '@app/kafka';
import { json, uniqueId } from '@app/testing';
import type { Admin, Kafka } from 'kafkajs';

/**
 * A new consumer group starts at the end of the shared input topics, so that a test decides only
 * its own records, not everything other runs left there (state topics are always read whole).
 */
export async function startGroupAtEnd(admin: Admin, groupId: string, topics: string[]) {
  for (const topic of topics) {
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.setOffsets({
      groupId,
      topic,
      partitions: offsets.map((o) => ({ partition: o.partition, offset: o.high })),
    });
  }
}

export const apnsDevice = (deviceId: string, token = 'ab'.repeat(32)): RegisteredDevice => ({
  deviceId,
  platform: 'ios',
  provider: 'apns',
  token,
  topic: 'com.example.chat',
  environment: 'sandbox',
  pushType: 'alert',
  locale: 'en',
  updatedAt: new Date().toISOString(),
});

export const fcmDevice = (
  deviceId: string,
  token = `fcm-${deviceId}-0123456789`,
): RegisteredDevice => ({
  deviceId,
  platform: 'android',
  provider: 'fcm',
  token,
  updatedAt: new Date().toISOString(),
});

let version = 1;

export async function publishTokens(
  producer: EventProducer,
  userId: string,
  devices: RegisteredDevice[],
  settings: Partial<TokenUserDevices['settings']> = {},
): Promise<void> {
  const value: TokenUserDevices = {
    appId: 'demo',
    userId,
    version: version++,
    updatedAt: new Date().toISOString(),
    devices,
    settings: {
      pushEnabled: true,
      hidePreview: false,
      snoozeUntil: null,
      dnd: null,
      sounds: { c2c: null, group: null },
      conversations: {},
      ...settings,
    },
  };
  await producer.send([outbound(TOPICS.tokenUserDevices, value)]);
}

export async function publishPresence(
  producer: EventProducer,
  userId: string,
  devices: Array<
    Pick<PresenceUserState['devices'][number], 'deviceId' | 'status'> & {
      unreadCount?: number;
      since?: string;
    }
  >,
): Promise<void> {
  const now = new Date().toISOString();
  const value: PresenceUserState = {
    appId: 'demo',
    userId,
    version: version++,
    updatedAt: now,
    devices: devices.map((d) => ({
      platform: 'ios',
      since: d.since ?? now,
      lastSeenAt: now,
      unreadCount: d.unreadCount ?? null,
      ...d,
    })),
  };
  await producer.send([outbound(TOPICS.presenceUserState, value)]);
}

/**
 * Records written to a shared topic after the tail was opened: each read starts a new group at
 * the offsets the topic had then, so nothing older (other runs, other tests) is read.
 */
export class Tail {
  private constructor(
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    readonly topic: string,
    private readonly start: Array<{ partition: number; offset: string }>,
  ) {}

  static async open(kafka: Kafka, admin: Admin, topic: string): Promise<Tail> {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Tail(
      kafka,
      admin,
      topic,
      offsets.map((o) => ({ partition: o.partition, offset: o.high })),
    );
  }

  /**
   * Values that match, once `count` arrived (then `settleMs` more, to catch extras such as
   * duplicates) or when `timeoutMs` passed.
   */
  async collect<T>(
    match: (v: T) => boolean,
    opts: { count: number; timeoutMs?: number; settleMs?: number; readUncommitted?: boolean },
  ): Promise<T[]> {
    const groupId = uniqueId('tail');
    await this.admin.setOffsets({ groupId, topic: this.topic, partitions: this.start });
    const consumer = this.kafka.consumer({
      groupId,
      readUncommitted: opts.readUncommitted ?? false,
    });
    const out: T[] = [];
    let reached!: () => void;
    const enough = new Promise<void>((r) => (reached = r));
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: false });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (!message.value) return;
        const v = json<T>(message);
        if (match(v)) out.push(v);
        if (out.length >= opts.count) reached();
      },
    });
    // Nothing expected: read what is there already (see settleMs) and stop.
    if (opts.count === 0) reached();
    const timer = setTimeout(reached, opts.timeoutMs ?? 30000);
    await enough;
    clearTimeout(timer);
    if (opts.settleMs) await new Promise((r) => setTimeout(r, opts.settleMs));
    await consumer.disconnect();
    return out;
  }
}
