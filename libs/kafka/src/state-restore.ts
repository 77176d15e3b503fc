import type { Logger } from '@nestjs/common';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { RestoreTracker } from './restore.tracker';
import { withAdmin } from './topic.admin';

export interface StateRestoreOptions {
  stateTopics: string[];
  enabled: boolean;
  onAssigned: (partitions: number[]) => void;
  beforeRestore: (partitions: number[]) => Promise<void>;
  logger: Logger;
}

/**
 * The restore half of a co-partitioned consumer. On every assignment it notes where each state
 * partition ends, follows the consumer's position through the changelog (control-record-only
 * batches included, through kafkajs's END_BATCH_PROCESS event), pauses input partitions that
 * arrive before their state, and resumes them once the state is read.
 */
export class StateRestore {
  private readonly tracker: RestoreTracker;
  private readonly paused = new Map<number, Set<string>>();

  constructor(
    private readonly kafka: Kafka,
    private readonly consumer: Consumer,
    private readonly opts: StateRestoreOptions,
  ) {
    this.tracker = new RestoreTracker(opts.stateTopics);
    if (!opts.enabled) return;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      const partitions = [...new Set(Object.values(e.payload.memberAssignment).flat())].sort(
        (a, b) => a - b,
      );
      const generation = this.tracker.assign(partitions);
      opts.onAssigned(partitions);
      opts.logger.log({ msg: 'partitions assigned; restoring state', partitions });
      void this.measureTargets(generation, partitions).catch((err: Error) =>
        opts.logger.error({
          msg: 'cannot start restore; the consumer will rejoin',
          err: err.message,
        }),
      );
    });
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
      const { topic, partition, lastOffset } = e.payload;
      if (!opts.stateTopics.includes(topic)) return;
      this.tracker.advance(topic, partition, BigInt(lastOffset) + 1n);
      this.resumeRestored();
    });
  }

  isRestored(): boolean {
    return !this.opts.enabled || this.tracker.allRestored();
  }

  /** False (and the partition paused) when the batch's partition is still restoring. */
  holdUntilRestored(payload: EachBatchPayload): boolean {
    if (!this.opts.enabled) return true;
    const { topic, partition } = payload.batch;
    if (this.tracker.isRestored(partition)) return true;
    let topics = this.paused.get(partition);
    if (!topics) this.paused.set(partition, (topics = new Set()));
    topics.add(topic);
    payload.pause();
    return false;
  }

  private async measureTargets(generation: number, partitions: number[]): Promise<void> {
    await this.opts.beforeRestore(partitions);
    await withAdmin(this.kafka, async (admin) => {
      for (const topic of this.opts.stateTopics) {
        const offsets = await admin.fetchTopicOffsets(topic);
        for (const o of offsets) {
          if (partitions.includes(o.partition)) {
            this.tracker.setTarget(generation, topic, o.partition, BigInt(o.low), BigInt(o.high));
          }
        }
      }
    });
    this.resumeRestored();
  }

  private resumeRestored(): void {
    for (const [partition, topics] of this.paused) {
      if (!this.tracker.isRestored(partition)) continue;
      this.paused.delete(partition);
      this.consumer.resume([...topics].map((topic) => ({ topic, partitions: [partition] })));
      this.opts.logger.log({ msg: 'state restored; input resumed', partition });
    }
  }
}
