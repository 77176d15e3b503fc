import { ALL_TOPICS } from '@app/contracts';
import type { Kafka, Message } from 'kafkajs';
import { ConfigResourceTypes } from 'kafkajs';
import { withAdmin } from './topic.admin';

/**
 * Bytes a record batch adds around its records (the v2 batch header), and what one record adds
 * around its key, value and headers at most (length, attributes, timestamp and offset deltas,
 * key and value lengths, header count: varints of at most 5 or 10 bytes each).
 */
export const BATCH_OVERHEAD_BYTES = 61;
const RECORD_OVERHEAD_BYTES = 40;
const HEADER_OVERHEAD_BYTES = 10;
/** Kept free below the limit: the estimate is an upper bound, this covers what it may miss. */
const SAFETY_BYTES = 512;

const byteLength = (v: string | Buffer | null | undefined): number =>
  v === null || v === undefined
    ? 0
    : typeof v === 'string'
      ? Buffer.byteLength(v, 'utf8')
      : v.length;

/** An upper bound of what one encoded record takes inside an uncompressed record batch. */
export function recordBytes(m: Message): number {
  let n = RECORD_OVERHEAD_BYTES + byteLength(m.key) + byteLength(m.value);
  const headers = m.headers;
  for (const k in headers) {
    if (!Object.prototype.hasOwnProperty.call(headers, k)) continue;
    const v = headers[k];
    n += HEADER_OVERHEAD_BYTES + Buffer.byteLength(k, 'utf8');
    if (Array.isArray(v)) for (const x of v) n += byteLength(x);
    else n += byteLength(v);
  }
  return n;
}

/** The contracts' own `max.message.bytes`, by topic name (asked per record when sending). */
const CONTRACT_LIMITS: ReadonlyMap<string, number> = new Map(
  (ALL_TOPICS as ReadonlyArray<{ name: string; config?: Readonly<Record<string, string>> }>)
    .filter((t) => t.config?.['max.message.bytes'])
    .map((t) => [t.name, Number(t.config!['max.message.bytes'])]),
);

/** A topic by name, or its definition (whose own `max.message.bytes` then applies). */
export type TopicRef =
  string | { readonly name: string; readonly config?: Readonly<Record<string, string>> };

/**
 * The record size limit of every topic a service produces to: Kafka refuses a record batch over
 * the topic's `max.message.bytes` (the broker's `message.max.bytes` unless the topic overrides
 * it), and a producer that retried such a refusal would retry forever. Every producer path asks
 * here before it sends: a batch is split to fit, a record that alone cannot fit is refused.
 *
 * The limits start from the setting (KAFKA_MAX_MESSAGE_BYTES) and the contracts' own topic
 * configuration, and are replaced by what the broker says once it answers (`loadFromBroker`).
 */
export class RecordLimits {
  private defaultMax = 1048576;
  private readonly fromBroker = new Map<string, number>();
  private loaded: Promise<void> | undefined;
  private retryAt = 0;

  configure(defaultMaxBytes: number): void {
    this.defaultMax = defaultMaxBytes;
  }

  /** Set a topic's limit (what the broker said, or a test's choice). */
  set(topic: string, maxBytes: number): void {
    this.fromBroker.set(topic, maxBytes);
  }

  /** Forget what the broker said (tests). */
  reset(): void {
    this.fromBroker.clear();
    this.loaded = undefined;
    this.retryAt = 0;
  }

  /** The topic's max.message.bytes. */
  maxBytes(topic: TopicRef): number {
    const name = typeof topic === 'string' ? topic : topic.name;
    const known = this.fromBroker.get(name);
    if (known !== undefined) return known;
    const own = typeof topic === 'string' ? undefined : topic.config?.['max.message.bytes'];
    return own ? Number(own) : (CONTRACT_LIMITS.get(name) ?? this.defaultMax);
  }

  /** Bytes the records of one batch for this topic may take (the limit less headroom). */
  batchBudget(topic: TopicRef): number {
    return this.maxBytes(topic) - BATCH_OVERHEAD_BYTES - SAFETY_BYTES;
  }

  /** Whether a record of this size can be sent to the topic at all. */
  fits(topic: TopicRef, bytes: number): boolean {
    return bytes <= this.batchBudget(topic);
  }

  /**
   * Reads `max.message.bytes` of every contract topic from the broker, once per process (again a
   * minute after a failure: producers ask on every connect, which must not cost an admin round
   * trip per send while the broker refuses, e.g. without DescribeConfigs rights). Best effort:
   * until it succeeds the setting and the contracts are used.
   */
  loadFromBroker(kafka: Kafka): Promise<void> {
    if (!this.loaded && Date.now() >= this.retryAt) {
      this.loaded = this.describe(kafka).catch(() => {
        this.loaded = undefined;
        this.retryAt = Date.now() + 60_000;
      });
    }
    return this.loaded ?? Promise.resolve();
  }

  private async describe(kafka: Kafka): Promise<void> {
    await withAdmin(kafka, async (admin) => {
      const existing = new Set(await admin.listTopics());
      const names = ALL_TOPICS.map((t) => t.name).filter((n) => existing.has(n));
      if (names.length === 0) return;
      const res = await admin.describeConfigs({
        includeSynonyms: false,
        resources: names.map((name) => ({
          type: ConfigResourceTypes.TOPIC,
          name,
          configNames: ['max.message.bytes'],
        })),
      });
      for (const r of res.resources) {
        const v = r.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue;
        if (v && Number(v) > 0) this.fromBroker.set(r.resourceName, Number(v));
      }
    });
  }
}

/** One per process: every producer of the process sends to the same brokers. */
export const recordLimits = new RecordLimits();
