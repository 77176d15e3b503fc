import type { Admin, Consumer, Kafka } from 'kafkajs';
import { uniqueId, waitFor } from '@app/testing';
import { setGroupOffsetsAtEnd } from '@app/kafka';

/** Collects every value of some topics (read_committed) as parsed JSON, for the test to inspect. */
export class TopicSink {
  readonly byTopic = new Map<
    string,
    Array<{ value: Record<string, unknown>; key: string | null }>
  >();

  private constructor(private readonly consumer: Consumer) {}

  /** Reads from the current end of each topic: only what this run produces is seen. */
  static async start(kafka: Kafka, topics: string[]): Promise<TopicSink> {
    const groupId = uniqueId('sink');
    // Committed start offsets at the current ends, so nothing produced after this call is missed.
    const admin = kafka.admin();
    await admin.connect();
    for (const topic of topics) await startAtEnd(admin, groupId, topic);
    await admin.disconnect();
    const consumer = kafka.consumer({ groupId, readUncommitted: false });
    const sink = new TopicSink(consumer);
    for (const t of topics) sink.byTopic.set(t, []);
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: false });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        if (!message.value) return;
        sink.byTopic.get(topic)!.push({
          value: JSON.parse(message.value.toString('utf8')) as Record<string, unknown>,
          key: message.key?.toString('utf8') ?? null,
        });
      },
    });
    return sink;
  }

  values(topic: string, filter: (v: Record<string, unknown>) => boolean = () => true) {
    return (this.byTopic.get(topic) ?? []).map((r) => r.value).filter(filter);
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

/** A group that starts at `topic`'s current end (retried while a fresh broker elects leaders). */
export async function startAtEnd(admin: Admin, groupId: string, topic: string): Promise<void> {
  // A broker just started may not have elected every leader yet.
  await waitFor(
    async () => {
      await setGroupOffsetsAtEnd(admin, groupId, topic);
      return true;
    },
    { what: `offsets of ${topic}`, timeoutMs: 60_000, intervalMs: 500 },
  );
}
