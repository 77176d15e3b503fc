import { Logger } from '@nestjs/common';
import type { TopicDefinition } from '@app/contracts';
import { CompressionTypes, Partitioners, type Kafka, type Producer } from 'kafkajs';
import { encodeRecord } from './record-codec';
import type { RecordContext } from '@app/observability';

export interface OutboundRecord<T = unknown> {
  topic: TopicDefinition<T, unknown>;
  /** null is a tombstone (compacted topics only). */
  value: T | null;
  key?: string;
  context?: RecordContext;
  headers?: Record<string, string>;
}

/** A record for a topic, checked by the compiler here and erased to `OutboundRecord` for lists. */
export const outbound = <T>(
  topic: TopicDefinition<T, unknown>,
  value: T | null,
  opts: Omit<OutboundRecord<T>, 'topic' | 'value'> = {},
): OutboundRecord => ({ topic, value, ...opts }) as unknown as OutboundRecord;

/** Groups validated records by topic, in order, for one `sendBatch`. */
export function toTopicMessages(records: OutboundRecord[]) {
  const byTopic = new Map<string, ReturnType<typeof encodeRecord>[]>();
  for (const r of records) {
    const msg = encodeRecord(r.topic, r.value, r);
    const list = byTopic.get(r.topic.name);
    if (list) list.push(msg);
    else byTopic.set(r.topic.name, [msg]);
  }
  return [...byTopic.entries()].map(([topic, messages]) => ({ topic, messages }));
}

/**
 * The idempotent producer (acks=all, Java-compatible murmur2 partitioner). Every value is checked
 * against its topic's schema before anything is sent: one bad value fails the whole call.
 */
export class EventProducer {
  private readonly logger = new Logger(EventProducer.name);
  readonly producer: Producer;
  private connected = false;

  constructor(kafka: Kafka) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 5,
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    await this.producer.connect();
    this.connected = true;
  }

  async send(records: OutboundRecord[]): Promise<void> {
    if (records.length === 0) return;
    const topicMessages = toTopicMessages(records);
    await this.connect();
    await this.producer.sendBatch({ topicMessages, acks: -1, compression: CompressionTypes.None });
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    await this.producer
      .disconnect()
      .catch((e: Error) => this.logger.warn(`producer disconnect: ${e.message}`));
  }
}
