import {
  TOPICS,
  type PresenceUserState,
  type RegisteredDevice,
  type TokenUserDevices,
  DEFAULT_PUSH_SETTINGS,
} from '@app/contracts';
import { EventProducer, outbound, setGroupOffsetsAtEnd } from '@app/kafka';
import { json, uniqueId } from '@app/testing';
import type { Admin, Consumer, Kafka } from 'kafkajs';

/**
 * A new consumer group starts at the end of the shared input topics, so that a test decides only
 * its own records, not everything other runs left there (state topics are always read whole).
 */
export async function startGroupAtEnd(admin: Admin, groupId: string, topics: string[]) {
  for (const topic of topics) await setGroupOffsetsAtEnd(admin, groupId, topic);
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
      ...DEFAULT_PUSH_SETTINGS,
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
 * One consumer over several shared topics for a whole test file, started at their ends: every
 * value written afterwards is kept, and `collect` filters what arrived (one group join in all,
 * rather than one per read).
 */
export class Recorder {
  private readonly values = new Map<string, unknown[]>();

  private constructor(private readonly consumer: Consumer) {}

  static async start(
    kafka: Kafka,
    admin: Admin,
    topics: string[],
    opts: { readUncommitted?: boolean } = {},
  ): Promise<Recorder> {
    const groupId = uniqueId('recorder');
    await startGroupAtEnd(admin, groupId, topics);
    const consumer = kafka.consumer({ groupId, readUncommitted: opts.readUncommitted ?? false });
    const recorder = new Recorder(consumer);
    for (const t of topics) recorder.values.set(t, []);
    let joined!: () => void;
    const ready = new Promise<void>((r) => (joined = r));
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: false });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        if (message.value) recorder.values.get(topic)!.push(json(message));
      },
    });
    await ready;
    return recorder;
  }

  /**
   * The matching values once `count` arrived, after `settleMs` more (to catch extras such as
   * duplicates); or what arrived when `timeoutMs` passed.
   */
  async collect<T>(
    topic: string,
    match: (v: T) => boolean,
    opts: { count: number; timeoutMs?: number; settleMs?: number },
  ): Promise<T[]> {
    const now = () => (this.values.get(topic) as T[]).filter(match);
    const deadline = Date.now() + (opts.timeoutMs ?? 30000);
    while (now().length < opts.count && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    if (opts.settleMs) await new Promise((r) => setTimeout(r, opts.settleMs));
    return now();
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}
