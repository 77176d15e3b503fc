import type { Logger } from '@nestjs/common';
import { runWithContext, withRecordTrace } from '@app/observability';
import { deadLetterForRecord } from '../dead-letter.util';
import { encodeOutbound, type EncodedRecord } from '../event.producer';
import {
  PoisonRecordException,
  RetryableException,
  SchemaViolationException,
} from '../kafka.exception';
import type { StallTracker } from '../stall.tracker';
import { Backoff, sleep, type BackoffPolicy } from './backoff';
import type {
  BatchHandler,
  ConsumedRecord,
  DeferredRest,
  PartitionTurn,
  RejectedRecord,
} from './consumer.types';

/** What a batch's handling produced, ready to commit. */
export interface HandledBatch {
  /** Dead letters of the batch's invalid records, the handler's output, its rejections' letters. */
  records: EncodedRecord[];
  /** The handlers' `onCommit`s, in order. */
  onCommit: Array<() => void>;
  deferFrom?: DeferredRest;
  /** How many records the handler rejected (`HandlerResult.rejected`), dead-lettered here. */
  rejected: number;
}

export interface BatchAttemptsOptions {
  /** Non-retryable failures of a whole batch are tried this often before records are isolated. */
  batchAttempts: number;
  /** The waits between tries (one run of backoff per batch, isolation included). */
  retry: BackoffPolicy;
  stalls: Pick<StallTracker, 'failed'>;
  logger: Pick<Logger, 'warn'>;
  sleep?: (ms: number) => Promise<void>;
}

const isPoison = (e: Error): e is PoisonRecordException | SchemaViolationException =>
  e instanceof PoisonRecordException || e instanceof SchemaViolationException;

/**
 * Runs a handler over a batch and encodes what it returns. Retryable failures wait and try again
 * for as long as the partition is ours; other failures are tried `batchAttempts` times (a record
 * refused for what it is, e.g. an output too large for Kafka, once), then the records are handled
 * one at a time so that only the poison one is dead-lettered. Every retry, of the batch or of one
 * record, marks the partition failing, logs, backs off and heartbeats; a partition that is no
 * longer ours gives `undefined` (nothing to commit: the batch is read again).
 */
export class BatchAttempts {
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: BatchAttemptsOptions) {
    this.sleep = opts.sleep ?? sleep;
  }

  async run(
    handle: BatchHandler<unknown>,
    valid: ConsumedRecord<unknown>[],
    letters: EncodedRecord[],
    turn: PartitionTurn,
  ): Promise<HandledBatch | undefined> {
    const out: HandledBatch = { records: [...letters], onCommit: [], rejected: 0 };
    if (valid.length === 0) return out;
    const backoff = new Backoff(this.opts.retry);
    for (let i = 1; ; i++) {
      try {
        const deferFrom = await this.attempt(handle, valid, turn, out);
        return { ...out, deferFrom };
      } catch (e) {
        const err = e as Error;
        if (!turn.stillOurs()) return undefined;
        const again =
          err instanceof RetryableException || (i < this.opts.batchAttempts && !isPoison(err));
        if (!again) break;
        if (!(await this.waitToRetry(turn, valid[0].offset, err, i, backoff))) return undefined;
      }
    }
    return this.isolate(handle, valid, turn, out, backoff);
  }

  /** Each record alone: what still fails (but for a retryable failure) is dead-lettered. */
  private async isolate(
    handle: BatchHandler<unknown>,
    valid: ConsumedRecord<unknown>[],
    turn: PartitionTurn,
    out: HandledBatch,
    backoff: Backoff,
  ): Promise<HandledBatch | undefined> {
    for (const rec of valid) {
      for (let i = 1; ; i++) {
        try {
          const deferFrom = await this.attempt(handle, [rec], turn, out);
          // Deferred: this record and those after it are read again later, none is skipped.
          if (deferFrom) return { ...out, deferFrom };
          break;
        } catch (e) {
          const err = e as Error;
          if (!turn.stillOurs()) return undefined;
          if (!(err instanceof RetryableException)) {
            out.records.push(this.poisonLetter(turn, rec, err));
            break;
          }
          if (!(await this.waitToRetry(turn, rec.offset, err, i, backoff))) return undefined;
        }
      }
    }
    return out;
  }

  /**
   * One call of the handler, in the first record's context and trace. Its output is validated
   * and sized here, so that an output Kafka would refuse fails the records that made it, never
   * the commit. Adds to `out` only when all of it encodes.
   */
  private async attempt(
    handle: BatchHandler<unknown>,
    rs: ConsumedRecord<unknown>[],
    turn: PartitionTurn,
    out: HandledBatch,
  ): Promise<DeferredRest | undefined> {
    const { topic, partition } = turn;
    const r = await runWithContext(rs[0].context, () =>
      withRecordTrace(rs[0].context, async () => {
        const result = (await handle(rs, { topic, partition })) ?? {};
        const encoded = (result.records ?? []).map(encodeOutbound);
        return { ...result, encoded };
      }),
    );
    out.records.push(...r.encoded, ...(r.rejected ?? []).map((x) => this.rejectionLetter(x)));
    out.rejected += r.rejected?.length ?? 0;
    if (r.onCommit) out.onCommit.push(r.onCommit);
    return r.deferFrom;
  }

  /** Marks the partition failing, logs, backs off, heartbeats; false once the partition is lost. */
  private async waitToRetry(
    turn: PartitionTurn,
    offset: string,
    err: Error,
    attempt: number,
    backoff: Backoff,
  ): Promise<boolean> {
    const { topic, partition } = turn;
    this.opts.stalls.failed(topic, partition, offset, err);
    this.opts.logger.warn({
      msg: 'batch failed; retrying',
      topic,
      partition,
      offset,
      attempt,
      err: err.message,
    });
    await this.sleep(backoff.next());
    await turn.heartbeat().catch(() => undefined);
    return turn.stillOurs();
  }

  private poisonLetter(turn: PartitionTurn, rec: ConsumedRecord<unknown>, err: Error) {
    const code = isPoison(err) ? err.code : 'HANDLER_ERROR';
    this.opts.logger.warn({
      msg: 'dead-lettering record the handler rejects',
      topic: turn.topic,
      partition: turn.partition,
      offset: rec.offset,
      code,
      err: err.message,
    });
    return encodeOutbound(deadLetterForRecord(rec, { code, message: err.message }));
  }

  private rejectionLetter({ record, code, message }: RejectedRecord): EncodedRecord {
    this.opts.logger.warn({
      msg: 'dead-lettering record the handler rejects',
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      code,
      reason: message,
    });
    return encodeOutbound(deadLetterForRecord(record, { code, message }));
  }
}
