import type { CleanupPolicy, TopicDefinition } from '@app/contracts';
import type { RecordContext } from '@app/observability';
import type { KafkaMessage } from 'kafkajs';
import type { OutboundRecord } from '../event.producer';

/**
 * A record that passed its topic's schema. `C` is the topic's cleanup policy: only a compacted
 * topic's records can be tombstones (`value` null), so a handler of a `delete` topic gets values.
 */
export interface ConsumedRecord<T, C extends CleanupPolicy = 'delete'> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: C extends 'compact' ? T | null : T;
  headers: Record<string, string>;
  timestamp: string;
  context: RecordContext;
  /** The record as read (its original bytes go into a dead letter, never a re-serialisation). */
  raw?: KafkaMessage;
}

/** Records from `offset` on are not handled yet; the partition is read again from it at `until`. */
export interface DeferredRest {
  offset: string;
  /** Epoch ms. */
  until: number;
}

/** A record the handler refuses for what it is: the runner dead-letters it with this code. */
export interface RejectedRecord {
  record: AnyRecord;
  code: string;
  message: string;
}

export interface HandlerResult {
  /** Produced before the offsets are committed (inside the transaction in transactional mode). */
  records?: OutboundRecord[];
  /** Runs once the records and offsets are committed: apply in-memory state changes here. */
  onCommit?: () => void;
  /**
   * The handler handled only the records before this offset (a retry topic whose next record is
   * not due): the offset committed is this one, and the partition is paused until `until`, then
   * read again from it. Nothing waits inside the handler, so other partitions keep flowing.
   */
  deferFrom?: DeferredRest;
  /**
   * Records the handler decided not to handle (e.g. UNKNOWN_APP): the runner dead-letters each
   * (original bytes, this code and message) with the batch's output, logs one warning per record
   * and counts it as `dead_letter` in `push_kafka_records_consumed_total`.
   */
  rejected?: RejectedRecord[];
}

/** A record of any topic (what the runner handles before it knows the type). */
export type AnyRecord = ConsumedRecord<unknown, CleanupPolicy>;

export type BatchHandler<T, C extends CleanupPolicy = 'delete'> = (
  records: ConsumedRecord<T, C>[],
  meta: { topic: string; partition: number },
) => Promise<HandlerResult | void>;

/** A topic and its handler (any value type: `handle` is a method, so it is bivariant). */
export interface Subscription<T = unknown, C extends CleanupPolicy = CleanupPolicy> {
  topic: TopicDefinition<T, unknown, C>;
  handle(
    records: ConsumedRecord<T, C>[],
    meta: { topic: string; partition: number },
  ): Promise<HandlerResult | void>;
  /**
   * `state`: a compacted changelog read into memory. Its offsets are never committed, so every
   * assignment re-reads it from the start; invalid values are skipped (logged and counted) rather
   * than dead-lettered again on every restore. Default `input`.
   */
  role?: 'input' | 'state';
  /**
   * A `state` subscription of a transactional, co-partitioned group that writes the same topic:
   * the handler's `onCommit` already applied each committed write (and memory never goes back to
   * an older value), so a record read back byte for byte as the last write of its key is skipped,
   * not parsed, validated and applied again (`OwnWrites`). Every record applies during a restore.
   */
  echoesApplied?: boolean;
}

/** The partition a batch comes from, and what kafkajs says about it while the batch is handled. */
export interface PartitionTurn {
  topic: string;
  partition: number;
  /** The batch's first offset (where a failing partition is stuck). */
  first: string;
  /** False once the consumer stops or the partition may be another member's. */
  stillOurs: () => boolean;
  /** kafkajs's heartbeat: throws when the group rebalanced. */
  heartbeat: () => Promise<void>;
}
