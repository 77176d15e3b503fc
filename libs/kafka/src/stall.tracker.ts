import type { Logger } from '@nestjs/common';
import { kafkaMetrics } from './kafka.metrics';

export interface StalledPartition {
  group: string;
  topic: string;
  partition: number;
  /** The offset the consumer keeps failing on. */
  offset: string;
  /** Since when (epoch ms) it has been failing on that offset. */
  since: number;
  attempts: number;
  cause: string;
}

interface Failing {
  offset: string;
  since: number;
  attempts: number;
  cause: string;
  reported: boolean;
}

/**
 * Which partitions of one consumer group have been failing on the same offset for too long. A
 * failure at an offset starts the clock; any progress past it (or losing the partition) stops it.
 * Past `stallAfterMs` the partition is stalled: readiness names it, the gauge
 * `push_kafka_partition_stalled` is 1, and one error log gives the offset and the cause.
 */
export class StallTracker {
  private readonly failing = new Map<string, Failing>();

  constructor(
    private readonly group: string,
    private readonly stallAfterMs: number,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** The handler or the commit of the batch starting at `offset` failed. */
  failed(topic: string, partition: number, offset: string, cause: Error | string): void {
    const id = `${topic}|${partition}`;
    const message = (typeof cause === 'string' ? cause : cause.message).slice(0, 500);
    const f = this.failing.get(id);
    if (f && f.offset === offset) {
      f.attempts++;
      f.cause = message;
    } else {
      if (f?.reported) this.clearGauge(topic, partition);
      this.failing.set(id, {
        offset,
        since: this.now(),
        attempts: 1,
        cause: message,
        reported: false,
      });
    }
    this.check();
  }

  /** The partition moved on (a batch committed) or is no longer ours. */
  progressed(topic: string, partition: number): void {
    const id = `${topic}|${partition}`;
    const f = this.failing.get(id);
    if (!f) return;
    this.failing.delete(id);
    if (f.reported) {
      this.clearGauge(topic, partition);
      this.logger.log({
        msg: 'stalled partition moved on',
        group: this.group,
        topic,
        partition,
        offset: f.offset,
        stalledMs: this.now() - f.since,
      });
    }
  }

  /** Keeps only the partitions of the new assignment. */
  retain(assigned: Record<string, number[]>): void {
    for (const id of [...this.failing.keys()]) {
      const [topic, p] = id.split('|');
      if (!(assigned[topic] ?? []).includes(Number(p))) this.progressed(topic, Number(p));
    }
  }

  clear(): void {
    for (const id of [...this.failing.keys()]) {
      const [topic, p] = id.split('|');
      this.progressed(topic, Number(p));
    }
  }

  /** The partitions stalled now (also reports those that just crossed the threshold). */
  stalled(): StalledPartition[] {
    this.check();
    const out: StalledPartition[] = [];
    for (const [id, f] of this.failing) {
      if (!f.reported) continue;
      const [topic, p] = id.split('|');
      out.push({ group: this.group, topic, partition: Number(p), ...f });
    }
    return out;
  }

  private check(): void {
    const now = this.now();
    for (const [id, f] of this.failing) {
      if (f.reported || now - f.since < this.stallAfterMs) continue;
      f.reported = true;
      const [topic, p] = id.split('|');
      kafkaMetrics.partitionStalled.set({ group: this.group, topic, partition: p }, 1);
      this.logger.error({
        msg: 'partition stalled: the consumer keeps failing on one offset',
        group: this.group,
        topic,
        partition: Number(p),
        offset: f.offset,
        failingForMs: now - f.since,
        attempts: f.attempts,
        cause: f.cause,
      });
    }
  }

  private clearGauge(topic: string, partition: number): void {
    kafkaMetrics.partitionStalled.set(
      { group: this.group, topic, partition: String(partition) },
      0,
    );
  }
}
