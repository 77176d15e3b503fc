import { Logger } from '@nestjs/common';
import type { TopicDefinition } from '@app/contracts';
import { withTimeout } from '@app/observability';
import { Partitioners, type Consumer, type EachBatchPayload, type Kafka } from 'kafkajs';

const partitioner = Partitioners.DefaultPartitioner();

/** The partition a key lands on: the same murmur2 computation every producer of the platform uses. */
export function partitionOfKey(key: string, partitionCount: number): number {
  const partitionMetadata = Array.from({ length: partitionCount }, (_, i) => ({
    partitionId: i,
    leader: 0,
    replicas: [0],
    isr: [0],
    partitionErrorCode: 0,
  }));
  return partitioner({ topic: '', partitionMetadata, message: { key, value: null } });
}

interface Scan<T> {
  key: string;
  /** Offset to reach (exclusive): the partition's end when the scan began. */
  target: bigint;
  value: T | null | undefined;
  done: () => void;
}

/**
 * Reads one key's current value from a compacted topic, on demand (presence: a user's snapshot of
 * a partition another instance owns; delivery-reports: a user's devices and presence). A consumer
 * of its own (a group of one, nothing committed) keeps every partition paused; a lookup reads the
 * key's partition from the start to where it ended, keeps the last value of the key, and pauses it
 * again. Costs one partition scan per request and no memory between.
 */
export class KeyLookup<T> {
  private readonly logger = new Logger(KeyLookup.name);
  private readonly consumer: Consumer;
  private readonly scans = new Map<number, Scan<T>>();
  private partitionCount: number | undefined;
  private readonly queues = new Map<number, Promise<unknown>>();
  private readonly joined: Promise<void>;
  private markJoined!: () => void;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: TopicDefinition<T, unknown>,
    groupId: string,
  ) {
    this.consumer = kafka.consumer({
      groupId,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
    });
    this.joined = new Promise<void>((r) => (this.markJoined = r));
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      const partitions = e.payload.memberAssignment[this.topic.name] ?? [];
      // Explicit partitions: a topic-wide pause would be undone by the first per-partition pause.
      this.consumer.pause([{ topic: this.topic.name, partitions }]);
      for (const p of this.scans.keys()) {
        this.consumer.resume([{ topic: this.topic.name, partitions: [p] }]);
      }
      this.markJoined();
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic.name, fromBeginning: true });
    await this.consumer.run({ autoCommit: false, eachBatch: (p) => this.onBatch(p) });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  /**
   * The key's last value, its partition found with the platform's partitioner; null after a
   * tombstone, undefined when the topic has none. The whole lookup takes at most `timeoutMs`.
   */
  async findKey(key: string, timeoutMs: number): Promise<T | null | undefined> {
    const started = Date.now();
    const count = await withTimeout(this.partitions(), timeoutMs, 'the topic metadata');
    const left = Math.max(1, timeoutMs - (Date.now() - started));
    return this.find(key, partitionOfKey(key, count), left);
  }

  private async partitions(): Promise<number> {
    if (this.partitionCount !== undefined) return this.partitionCount;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [this.topic.name] });
      const count = meta.topics[0]?.partitions.length ?? 0;
      if (count === 0) throw new Error(`${this.topic.name} has no partitions`);
      this.partitionCount = count;
      return count;
    } finally {
      await admin.disconnect();
    }
  }

  /** The key's last value in `partition`; null after a tombstone; undefined when there is none. */
  find(key: string, partition: number, timeoutMs: number): Promise<T | null | undefined> {
    const run = (this.queues.get(partition) ?? Promise.resolve()).then(() =>
      withTimeout(this.scan(key, partition), timeoutMs, 'the key lookup').finally(() =>
        this.finish(partition),
      ),
    );
    this.queues.set(
      partition,
      run.catch(() => undefined),
    );
    return run;
  }

  private async scan(key: string, partition: number): Promise<T | null | undefined> {
    await this.joined;
    const admin = this.kafka.admin();
    await admin.connect();
    let low: bigint;
    let high: bigint;
    try {
      const o = (await admin.fetchTopicOffsets(this.topic.name)).find(
        (x) => x.partition === partition,
      );
      if (!o) throw new Error(`${this.topic.name} has no partition ${partition}`);
      low = BigInt(o.low);
      high = BigInt(o.high);
    } finally {
      await admin.disconnect();
    }
    if (high <= low) return undefined;
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const scan: Scan<T> = { key, target: high, value: undefined, done };
    this.scans.set(partition, scan);
    this.consumer.seek({ topic: this.topic.name, partition, offset: low.toString() });
    this.consumer.resume([{ topic: this.topic.name, partitions: [partition] }]);
    await finished;
    return scan.value;
  }

  private finish(partition: number): void {
    this.scans.delete(partition);
    this.consumer.pause([{ topic: this.topic.name, partitions: [partition] }]);
  }

  private async onBatch({ batch, pause }: EachBatchPayload): Promise<void> {
    const scan = this.scans.get(batch.partition);
    if (!scan) {
      pause();
      return;
    }
    for (const m of batch.messages) {
      if (m.key?.toString() !== scan.key) continue;
      if (!m.value || m.value.length === 0) {
        scan.value = null;
        continue;
      }
      let parsed: ReturnType<typeof this.topic.schema.safeParse> | undefined;
      try {
        parsed = this.topic.schema.safeParse(JSON.parse(m.value.toString('utf8')));
      } catch {
        parsed = undefined;
      }
      if (parsed?.success) scan.value = parsed.data;
      else this.logger.warn({ msg: 'skipping an invalid value', offset: m.offset });
    }
    if (BigInt(batch.lastOffset()) + 1n >= scan.target) scan.done();
  }
}
