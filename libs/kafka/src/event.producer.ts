import { Logger } from '@nestjs/common';
import type { TopicDefinition } from '@app/contracts';
import { CompressionTypes, Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import { encodeRecord } from './record-codec';
import { ProducerBusyException, RecordTooLargeException } from './kafka.exception';
import { recordBytes, recordLimits } from './record-limits';
import { kafkaMetrics } from './kafka.metrics';
import type { RecordContext } from '@app/observability';

export interface OutboundRecord<T = unknown> {
  topic: TopicDefinition<T, unknown>;
  /** null is a tombstone (compacted topics only). */
  value: T | null;
  key?: string;
  /** An explicit partition (push tasks: one record per partition); absent: by the key. */
  partition?: number;
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
): OutboundRecord => ({ topic, value, ...opts });

/** A record encoded for its topic, with an upper bound of its size inside a batch. */
export interface EncodedRecord {
  topic: string;
  message: Message;
  bytes: number;
}

/**
 * Validates, serialises and sizes one record. Throws `SchemaViolationException` for a value its
 * topic refuses and `RecordTooLargeException` for one that cannot fit the topic's size limit.
 */
export function encodeOutbound(r: OutboundRecord): EncodedRecord {
  const message = encodeRecord(r.topic, r.value, r);
  const bytes = recordBytes(message);
  if (!recordLimits.fits(r.topic, bytes)) {
    kafkaMetrics.recordsTooLarge.inc({ topic: r.topic.name });
    throw new RecordTooLargeException(r.topic.name, bytes, recordLimits.maxBytes(r.topic));
  }
  return { topic: r.topic.name, message, bytes };
}

type TopicMessages = Array<{ topic: string; messages: Message[] }>;

/**
 * Splits encoded records, in order, into produce calls whose records for any one topic fit that
 * topic's batch budget: Kafka checks max.message.bytes per partition batch, and a topic's records
 * in one call are at most all of one partition's.
 */
export function splitByBytes(records: readonly EncodedRecord[]): TopicMessages[] {
  const calls: TopicMessages[] = [];
  let byTopic = new Map<string, { messages: Message[]; bytes: number }>();
  const close = () => {
    if (byTopic.size) {
      calls.push([...byTopic].map(([topic, { messages }]) => ({ topic, messages })));
    }
    byTopic = new Map();
  };
  for (const r of records) {
    let t = byTopic.get(r.topic);
    if (t && t.bytes + r.bytes > recordLimits.batchBudget(r.topic)) {
      close();
      t = undefined;
    }
    if (!t) byTopic.set(r.topic, (t = { messages: [], bytes: 0 }));
    t.messages.push(r.message);
    t.bytes += r.bytes;
  }
  close();
  return calls;
}

interface PendingSend {
  records: EncodedRecord[];
  bytes: number;
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
  private queuedBytes = 0;

  /**
   * `maxQueuedBytes` bounds what callers may hand over while earlier sends are in flight (memory,
   * and how long an acknowledgement can take): past it `send` rejects at once, and the caller
   * backs off (an HTTP API answers 503 with Retry-After).
   */
  constructor(
    private readonly kafka: Kafka,
    private readonly maxQueuedBytes = 64 * 1024 * 1024,
  ) {
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
    // The topics' real size limits, once the broker answers (best effort).
    await recordLimits.loadFromBroker(this.kafka);
  }

  /**
   * Sends records (validated, sized, split into calls that fit the broker's limits). Rejects with
   * `SchemaViolationException` or `RecordTooLargeException` before anything is sent when one
   * record is refused, and with `ProducerBusyException` when the unsent backlog is full.
   */
  send(records: OutboundRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    let encoded: EncodedRecord[];
    try {
      encoded = records.map(encodeOutbound);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return this.sendEncoded(encoded);
  }

  /** Sends records already encoded by `encodeOutbound`. */
  sendEncoded(records: EncodedRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const bytes = records.reduce((n, r) => n + r.bytes, 0);
    // A caller alone may exceed the cap (it is then sent alone); others wait for room.
    if (this.queuedBytes > 0 && this.queuedBytes + bytes > this.maxQueuedBytes) {
      return Promise.reject(new ProducerBusyException(this.queuedBytes));
    }
    this.queuedBytes += bytes;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ records, bytes, resolve, reject });
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
        await this.sendCoalesced(batch);
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * Sends the records of several callers in as few calls as the size limits allow, in order. A
   * caller is answered once its last record is acknowledged; after a failed call, every caller
   * not yet answered fails (and retries), and the producer is replaced.
   */
  private async sendCoalesced(batch: PendingSend[]): Promise<void> {
    const all: EncodedRecord[] = [];
    const lastIndex: number[] = [];
    for (const b of batch) {
      all.push(...b.records);
      lastIndex.push(all.length - 1);
    }
    const calls = splitByBytes(all);
    let sent = 0;
    let answered = 0;
    const settle = (upTo: number, e?: Error) => {
      while (answered < batch.length && (e || lastIndex[answered] < upTo)) {
        const b = batch[answered++];
        this.queuedBytes -= b.bytes;
        if (e) b.reject(e);
        else b.resolve();
      }
    };
    try {
      await this.connect();
      for (const topicMessages of calls) {
        await this.current.sendBatch({
          topicMessages,
          acks: -1,
          compression: CompressionTypes.None,
        });
        sent += topicMessages.reduce((n, t) => n + t.messages.length, 0);
        settle(sent);
      }
      settle(Number.MAX_SAFE_INTEGER);
    } catch (e) {
      settle(0, e as Error);
      await this.replace();
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
