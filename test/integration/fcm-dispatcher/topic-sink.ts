import type { Consumer, Kafka } from 'kafkajs';
import { uniqueId } from '@app/testing';

/** Collects every value of some topics (read_committed) as parsed JSON, for the test to inspect. */
export class TopicSink {
  readonly byTopic = new Map<
    string,
    Array<{ value: Record<string, unknown>; key: string | null }>
  >();

  private constructor(private readonly consumer: Consumer) {}

  static async start(kafka: Kafka, topics: string[]): Promise<TopicSink> {
    const consumer = kafka.consumer({ groupId: uniqueId('sink'), readUncommitted: false });
    const sink = new TopicSink(consumer);
    for (const t of topics) sink.byTopic.set(t, []);
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
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
