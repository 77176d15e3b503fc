import { setGroupOffsetsAtEnd } from '@app/kafka';
import type { Admin, Consumer, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { uniqueId, waitFor } from './kafka.helpers';

/** One record a `TopicRecorder` read, its value decoded. */
export interface RecordedMessage<T = unknown> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  /** The value parsed as JSON: null for a tombstone, undefined when the bytes are not JSON. */
  value: T;
  /** The value's bytes as read (null for a tombstone). */
  bytes: Buffer | null;
  /** Each header's first value, as a UTF-8 string. */
  headers: Record<string, string>;
  timestamp: string;
}

export interface TopicRecorderOptions {
  /**
   * `end` (the default): only what is written after `start` returns (the topics are shared, other
   * runs' records stay out). `beginning`: everything the topics hold.
   */
  from?: 'end' | 'beginning';
  /** Also see records of open and aborted transactions. */
  readUncommitted?: boolean;
  /** Keep only records whose key starts with this (a tenant's `appId:`, say). */
  keyPrefix?: string;
  /** Keep only records this accepts (the others are dropped as they arrive, not held). */
  filter?: (record: RecordedMessage) => boolean;
  /** Called with each record kept, as it arrives (for an index of the test's own). */
  onRecord?: (record: RecordedMessage) => void;
  /** `start` returns once the group is joined (the default), or as soon as the consumer runs. */
  waitForJoin?: boolean;
}

/**
 * Records what some topics carry, in a consumer group of its own, for a test to inspect: every
 * record once (by position, even if the consumer restarts), decoded, by topic in arrival order.
 * `start` returns once the group is joined (unless told not to wait); a consumer that crashes for
 * good is replaced.
 */
export class TopicRecorder {
  private readonly byTopic = new Map<string, RecordedMessage[]>();
  private readonly seen = new Set<string>();
  private readonly groupId = uniqueId('recorder');
  private consumer?: Consumer;
  private stopped = false;

  private constructor(
    private readonly kafka: Kafka,
    readonly topics: string[],
    private readonly opts: TopicRecorderOptions,
  ) {
    for (const t of topics) this.byTopic.set(t, []);
  }

  static async start(
    kafka: Kafka,
    topics: string | string[],
    opts: TopicRecorderOptions = {},
  ): Promise<TopicRecorder> {
    const recorder = new TopicRecorder(kafka, typeof topics === 'string' ? [topics] : topics, opts);
    if ((opts.from ?? 'end') === 'end') {
      const admin = kafka.admin();
      await admin.connect();
      try {
        await startGroupAtEnd(kafka, admin, recorder.groupId, recorder.topics);
      } finally {
        await admin.disconnect();
      }
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await recorder.run();
        return recorder;
      } catch (e) {
        await recorder.consumer?.disconnect().catch(() => undefined);
        if (attempt >= 3) throw e;
      }
    }
  }

  /** The records of `topic` (it may be left out when recording one topic), in arrival order. */
  records<T = unknown>(topic?: string): RecordedMessage<T>[] {
    return (this.byTopic.get(this.topicOf(topic)) ?? []) as RecordedMessage<T>[];
  }

  /** The decoded values of `topic`'s records (those `match` accepts, if given). */
  values<T = unknown>(topic?: string, match: (v: T) => boolean = () => true): T[] {
    return this.records<T>(topic)
      .map((r) => r.value)
      .filter(match);
  }

  /** The records of `topic` with exactly this key. */
  forKey<T = unknown>(key: string, topic?: string): RecordedMessage<T>[] {
    return this.records<T>(topic).filter((r) => r.key === key);
  }

  /** The first record of `topic` that `match` accepts, once it arrived. */
  waitFor<T = unknown>(
    match: (r: RecordedMessage<T>) => boolean,
    opts: { topic?: string; timeoutMs?: number; what?: string } = {},
  ): Promise<RecordedMessage<T>> {
    const topic = this.topicOf(opts.topic);
    return waitFor(() => this.records<T>(topic).find(match), {
      what: opts.what ?? `a matching record on ${topic}`,
      timeoutMs: opts.timeoutMs,
      intervalMs: 50,
    });
  }

  /**
   * The values of `topic` that `match` accepts once `count` arrived, after `settleMs` more (to
   * catch extras such as duplicates); or those that arrived when `timeoutMs` passed.
   */
  async collect<T = unknown>(
    topic: string,
    match: (v: T) => boolean,
    opts: { count: number; timeoutMs?: number; settleMs?: number },
  ): Promise<T[]> {
    const now = () => this.values<T>(topic, match);
    const deadline = Date.now() + (opts.timeoutMs ?? 30000);
    while (now().length < opts.count && Date.now() < deadline) await sleep(50);
    if (opts.settleMs) await sleep(opts.settleMs);
    return now();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer?.disconnect();
  }

  private topicOf(topic: string | undefined): string {
    if (topic !== undefined) return topic;
    if (this.topics.length === 1) return this.topics[0];
    throw new Error(`name the topic: this recorder reads ${this.topics.join(', ')}`);
  }

  private async run(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      readUncommitted: this.opts.readUncommitted ?? false,
      maxWaitTimeInMs: 200,
    });
    this.consumer = consumer;
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
    consumer.on(consumer.events.CRASH, (e) => {
      // kafkajs restarts the consumer itself after a retriable error; otherwise, a new one.
      if (e.payload.restart || this.stopped || this.consumer !== consumer) return;
      void consumer
        .disconnect()
        .catch(() => undefined)
        .then(() => this.run())
        .catch(() => undefined);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: this.topics, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => this.keep(topic, partition, message),
    });
    if (this.opts.waitForJoin ?? true) {
      await waitFor(() => joined, { what: 'recorder joined its group', timeoutMs: 60000 });
    }
  }

  private keep(topic: string, partition: number, message: KafkaMessage): void {
    const key = message.key?.toString('utf8') ?? null;
    if (this.opts.keyPrefix !== undefined && !key?.startsWith(this.opts.keyPrefix)) return;
    const record: RecordedMessage = {
      topic,
      partition,
      offset: message.offset,
      key,
      value: decode(message.value),
      bytes: message.value,
      headers: headerStrings(message.headers),
      timestamp: message.timestamp,
    };
    if (this.opts.filter && !this.opts.filter(record)) return;
    const at = `${topic}:${partition}:${message.offset}`;
    if (this.seen.has(at)) return;
    this.seen.add(at);
    this.byTopic.get(topic)?.push(record);
    this.opts.onRecord?.(record);
  }
}

/**
 * Everything `topic` holds (from the beginning, in a group of its own) until `count` records were
 * read or `timeoutMs` passed since the consumer started (joining the group included: a broker
 * just restarted may take longer, and the caller reads again).
 */
export async function readTopic<T = unknown>(
  kafka: Kafka,
  topic: string,
  opts: { count?: number; timeoutMs?: number; readUncommitted?: boolean },
): Promise<RecordedMessage<T>[]> {
  const recorder = await TopicRecorder.start(kafka, topic, {
    from: 'beginning',
    readUncommitted: opts.readUncommitted,
    waitForJoin: false,
  });
  try {
    const count = opts.count ?? Number.MAX_SAFE_INTEGER;
    const deadline = Date.now() + (opts.timeoutMs ?? 15000);
    while (recorder.records().length < count && Date.now() < deadline) await sleep(50);
    return recorder.records<T>();
  } finally {
    await recorder.stop();
  }
}

/** What `topic` holds within `ms` (to assert that nothing, or nothing more, is there). */
export function readFor<T = unknown>(
  kafka: Kafka,
  topic: string,
  ms: number,
  readUncommitted = false,
): Promise<RecordedMessage<T>[]> {
  return readTopic<T>(kafka, topic, { timeoutMs: ms, readUncommitted });
}

/**
 * Commits `groupId`'s offsets at the current end of each topic, so that the group starts there
 * (one join of the group for all of them; retried while a broker just started still elects
 * partition leaders).
 */
export async function startGroupAtEnd(
  kafka: Kafka,
  admin: Admin,
  groupId: string,
  topics: string[],
): Promise<void> {
  await waitFor(
    async () => {
      await setGroupOffsetsAtEnd(kafka, admin, groupId, topics);
      return true;
    },
    { what: `${groupId} at the end of ${topics.join(', ')}`, timeoutMs: 60000, intervalMs: 500 },
  );
}

function decode(value: Buffer | null): unknown {
  if (value === null) return null;
  try {
    return JSON.parse(value.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined) out[k] = first.toString();
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
