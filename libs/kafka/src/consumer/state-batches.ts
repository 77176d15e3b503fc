import type { Logger } from '@nestjs/common';
import { kafkaMetrics } from '../kafka.metrics';
import type { StallTracker } from '../stall.tracker';
import { Backoff, sleep, type BackoffPolicy } from './backoff';
import type { BatchHandler, ConsumedRecord, PartitionTurn } from './consumer.types';
import type { InvalidRecord } from './record-decoder';

export interface StateBatchesOptions {
  groupId: string;
  retry: BackoffPolicy;
  stalls: Pick<StallTracker, 'failed' | 'progressed'>;
  logger: Pick<Logger, 'warn'>;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Applies a changelog batch (a `state` subscription) to memory: never committed, nothing
 * dead-lettered (every assignment reads it again). Invalid records, and records the handler
 * rejects, are skipped (logged, counted `skipped`); a failing batch is retried with backoff until
 * it applies or the partition is no longer ours.
 */
export class StateBatches {
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: StateBatchesOptions) {
    this.sleep = opts.sleep ?? sleep;
  }

  /** True once applied (the runner then moves past the batch); false when the partition is lost. */
  async apply(
    handle: BatchHandler<unknown>,
    valid: ConsumedRecord<unknown>[],
    invalid: InvalidRecord[],
    turn: PartitionTurn,
  ): Promise<boolean> {
    const { topic, partition } = turn;
    for (const d of invalid) {
      this.skip(
        turn,
        d.message.offset,
        d.reason.code,
        d.reason.message,
        'skipping invalid state record',
      );
    }
    const backoff = new Backoff(this.opts.retry);
    let rejected = 0;
    while (valid.length) {
      try {
        const r = await handle(valid, { topic, partition });
        for (const x of r?.rejected ?? []) {
          this.skip(
            turn,
            x.record.offset,
            x.code,
            x.message,
            'skipping state record the handler rejects',
          );
        }
        rejected = r?.rejected?.length ?? 0;
        r?.onCommit?.();
        break;
      } catch (e) {
        if (!turn.stillOurs()) return false;
        this.opts.stalls.failed(topic, partition, turn.first, e as Error);
        this.opts.logger.warn({
          msg: 'state batch failed; retrying',
          topic,
          partition,
          err: (e as Error).message,
        });
        await this.sleep(backoff.next());
        await turn.heartbeat(); // throws when the group rebalanced: the batch is read again
      }
    }
    this.opts.stalls.progressed(topic, partition);
    kafkaMetrics.recordsConsumed.inc(
      { group: this.opts.groupId, topic, result: 'ok' },
      valid.length - rejected,
    );
    return true;
  }

  private skip(turn: PartitionTurn, offset: string, code: string, reason: string, msg: string) {
    const { topic, partition } = turn;
    this.opts.logger.warn({ msg, topic, partition, offset, code, reason });
    kafkaMetrics.recordsConsumed.inc({ group: this.opts.groupId, topic, result: 'skipped' });
  }
}
