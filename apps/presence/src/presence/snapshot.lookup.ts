import { Logger } from '@nestjs/common';
import type { PresenceUserState, TopicDefinition } from '@app/contracts';
import { withTimeout } from '@app/observability';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';

interface Scan {
  key: string;
  /** Offset to reach (exclusive): the partition's end when the scan began. */
  target: bigint;
  value: PresenceUserState | null | undefined;
  done: () => void;
}

/**
 * Reads one user's snapshot from the compacted topic, for users of partitions another instance
 * owns. A consumer of its own (a group of one, nothing committed) keeps every partition paused;
 * a lookup reads its user's partition from the start to where it ended, keeps the last value of
 * the key, and pauses it again. Costs one partition scan per request and no memory between.
 */
export class SnapshotLookup {
  private readonly logger = new Logger(SnapshotLookup.name);
  private readonly consumer: Consumer;
  private readonly scans = new Map<number, Scan>();
  private readonly queues = new Map<number, Promise<unknown>>();
  private readonly joined: Promise<void>;
  private markJoined!: () => void;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: TopicDefinition<PresenceUserState, unknown>,
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

  /** The user's last snapshot; null after a tombstone; undefined when the topic has none. */
  find(
    key: string,
    partition: number,
    timeoutMs: number,
  ): Promise<PresenceUserState | null | undefined> {
    const run = (this.queues.get(partition) ?? Promise.resolve()).then(() =>
      withTimeout(this.scan(key, partition), timeoutMs, 'the snapshot lookup').finally(() =>
        this.finish(partition),
      ),
    );
    this.queues.set(
      partition,
      run.catch(() => undefined),
    );
    return run;
  }

  private async scan(
    key: string,
    partition: number,
  ): Promise<PresenceUserState | null | undefined> {
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
    const scan: Scan = { key, target: high, value: undefined, done };
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
      else this.logger.warn({ msg: 'skipping invalid snapshot', offset: m.offset });
    }
    if (BigInt(batch.lastOffset()) + 1n >= scan.target) scan.done();
  }
}
