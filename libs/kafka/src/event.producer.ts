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
  /**
   * The value was built by a builder whose every output is tested against the topic's schema
   * (from input that was validated when consumed), so encoding skips validating it again. For
   * the dispatchers' outcomes, invalidations and retries: one validation per record, not two.
   */
  prevalidated?: boolean;
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

interface PendingSend {
  topicMessages: ReturnType<typeof toTopicMessages>;
  resolve: () => void;
  reject: (e: Error) => void;
}

/**
 * The idempotent producer (acks=all, Java-compatible murmur2 partitioner). Every value is checked
 * against its topic's schema before anything is sent: one bad value fails the whole call, and no
 * other caller's.
 *
 * Sends are serialised: kafkajs's idempotent producer answers OUT_OF_ORDER_SEQUENCE_NUMBER when
 * several sends to one partition are in flight at once, so calls that arrive while a send is in
 * flight are coalesced into the next `sendBatch` (which also batches better). After a failed send
 * the kafkajs producer is replaced: kafkajs rolls its sequence numbers back on failure, and if the
 * broker had written the batch after all, the next, different batch would reuse those numbers
 * and be dropped as a duplicate. A new producer has a new producer id.
 */
export class EventProducer {
  private readonly logger = new Logger(EventProducer.name);
  private current: Producer;
  private connecting: Promise<void> | undefined;
  private queue: PendingSend[] = [];
  private flushing = false;

  constructor(private readonly kafka: Kafka) {
    this.current = this.create();
  }

  /** The kafkajs producer in use now (it is replaced after a failed send). */
  get producer(): Producer {
    return this.current;
  }

  private create(): Producer {
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
  }

  async connect(): Promise<void> {
    this.connecting ??= this.current.connect().catch((e: Error) => {
      this.connecting = undefined;
      throw e;
    });
    await this.connecting;
  }

  send(records: OutboundRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    let topicMessages: ReturnType<typeof toTopicMessages>;
    try {
      topicMessages = toTopicMessages(records);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topicMessages, resolve, reject });
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length) {
        const batch = this.queue;
        this.queue = [];
        try {
          await this.connect();
          await this.current.sendBatch({
            topicMessages: batch.flatMap((b) => b.topicMessages),
            acks: -1,
            compression: CompressionTypes.None,
          });
          batch.forEach((b) => b.resolve());
        } catch (e) {
          batch.forEach((b) => b.reject(e as Error));
          await this.replace();
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private async replace(): Promise<void> {
    const old = this.current;
    const wasConnected = this.connecting !== undefined;
    this.current = this.create();
    this.connecting = undefined;
    if (wasConnected) await old.disconnect().catch(() => undefined);
  }

  async disconnect(): Promise<void> {
    // Let queued sends finish (or fail) before the connection goes.
    while (this.flushing || this.queue.length) await new Promise((r) => setTimeout(r, 10));
    if (!this.connecting) return;
    this.connecting = undefined;
    await this.current
      .disconnect()
      .catch((e: Error) => this.logger.warn(`producer disconnect: ${e.message}`));
  }
}
