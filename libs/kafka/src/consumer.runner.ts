import { Logger } from '@nestjs/common';
import type { Consumer, ConsumerConfig, EachBatchPayload, Kafka } from 'kafkajs';
import { deadLetterFor } from './dead-letter.util';
import { encodeOutbound, type EncodedRecord, type EventProducer } from './event.producer';
import { CopartitionedAssigner } from './copartitioned.assigner';
import { kafkaMetrics, trackConsumerLag } from './kafka.metrics';
import { StateRestore } from './state-restore';
import { BackgroundStart } from './background-start';
import { startNewGroupAtEnd } from './group-offsets';
import { StallTracker, type StalledPartition } from './stall.tracker';
import { kafkaSettings } from './kafka.settings';
// Tracing (off unless configured): a span per handled record, ended when its batch settles.
import { settleBatchSpans, traceRecords } from '@app/observability';
import { Backoff, sleep, type BackoffPolicy } from './consumer/backoff';
import { BatchAttempts, type HandledBatch } from './consumer/batch-attempts';
import type { ConsumedRecord, PartitionTurn, Subscription } from './consumer/consumer.types';
import { OffsetCommitter } from './consumer/offset-committer';
import { OwnWrites } from './consumer/own-writes';
import { PartitionParking } from './consumer/partition-parking';
import { PartitionTurns } from './consumer/partition-turns';
import { RecordDecoder, type InvalidRecord } from './consumer/record-decoder';
import { StateBatches } from './consumer/state-batches';
import { withAdmin } from './topic.admin';

export type {
  BatchHandler,
  ConsumedRecord,
  DeferredRest,
  HandlerResult,
  RejectedRecord,
  Subscription,
} from './consumer/consumer.types';

export interface ConsumerRunnerOptions {
  groupId: string;
  subscriptions: Subscription[];
  /**
   * Consume-transform-produce in one Kafka transaction per batch. The transactional id is derived
   * from the input partition, so the instance that takes a partition over fences the one that lost
   * it (kafkajs has no group-metadata fencing).
   */
  transactional?: { idPrefix: string };
  fromBeginning?: boolean;
  /**
   * Partitions handled at once (default 1). Co-partitioned groups still handle the input batches
   * of one partition number one after the other (see `PartitionTurns`); state batches never wait.
   */
  partitionsConsumedConcurrently?: number;
  /** Backoff for retryable failures: starts here, doubles, capped at maxRetryDelayMs. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Non-retryable failures of a whole batch are retried this often before records are isolated. */
  batchAttempts?: number;
  sessionTimeout?: number;
  maxBytesPerPartition?: number;
  /**
   * How long a fetch waits for data. A partition resumed after `deferFrom` is fetched only once
   * the fetch in flight returns, so this bounds how late a parked retry is read.
   */
  maxWaitTimeInMs?: number;
  /**
   * Assign partition N of every subscribed topic to the same member and hold input partition N
   * until the `state` subscriptions' partition N are read up to where they stood at assignment.
   */
  copartitioned?: boolean;
  /** Called synchronously with the partition numbers of each new assignment, before any batch. */
  onAssigned?: (partitions: number[]) => void;
  /**
   * Where a group that has never committed starts on its input topics: `earliest` (default) reads
   * what the topics retain; `latest` starts at their end, like Kafka's `auto.offset.reset=latest`
   * (routing: a first deployment must not push the week of messages its input retains). State
   * topics are always read from the beginning.
   */
  newGroupStart?: 'earliest' | 'latest';
  /** A partition failing on one offset this long is stalled (default: KAFKA_STALL_AFTER_SECONDS). */
  stallAfterMs?: number;
}

export interface BackgroundStartHooks {
  /** Runs before each attempt to start (e.g. checking topics); a throw is retried like a start. */
  prepare?: () => Promise<void>;
  /** Runs once the consumer runs (e.g. tracking it for readiness). */
  onStarted?: () => void;
  /** Errors no retry fixes: the process exits (see `BackgroundStart`). */
  isFatal?: (e: Error) => boolean;
}

/** Thrown to kafkajs so that it rejoins and reads the batch again (it restarts on retriable errors). */
class BatchFailedError extends Error {
  readonly retriable = true;
  constructor(topic: string, partition: number, cause: Error) {
    super(`batch of ${topic}[${partition}] not committed: ${cause.message}`);
    this.name = 'BatchFailedError';
  }
}

/** A batch whose commit fails is handled again this often in all (then kafkajs reads it again). */
const COMMIT_ATTEMPTS = 5;
/** The waits between those: 400 ms, doubling, at most 5 s. */
const COMMIT_RETRY: BackoffPolicy = { initialMs: 400, maxMs: 5000 };

const consumerConfig = (opts: ConsumerRunnerOptions): ConsumerConfig => ({
  groupId: opts.groupId,
  readUncommitted: false,
  sessionTimeout: opts.sessionTimeout ?? 30000,
  heartbeatInterval: 3000,
  maxBytesPerPartition: opts.maxBytesPerPartition ?? 1048576,
  allowAutoTopicCreation: false,
  maxWaitTimeInMs: opts.maxWaitTimeInMs ?? (opts.copartitioned ? 500 : 5000),
  ...(opts.copartitioned ? { partitionAssigners: [CopartitionedAssigner] } : {}),
});

/** State topics whose own writes are skipped when read back (transactional, co-partitioned only). */
const echoTopics = (opts: ConsumerRunnerOptions): Set<string> =>
  new Set(
    opts.transactional && opts.copartitioned
      ? opts.subscriptions
          .filter((s) => s.role === 'state' && s.echoesApplied)
          .map((s) => s.topic.name)
      : [],
  );

const inputTopics = (opts: ConsumerRunnerOptions): string[] =>
  opts.subscriptions.filter((s) => s.role !== 'state').map((s) => s.topic.name);

/**
 * Runs a consumer group: validates every value against its topic's schema, dead-letters what fails
 * (with the original bytes and the reason) so that the partition moves on, retries what may pass,
 * isolates a poison record inside a failing batch, and commits offsets only after the handler's
 * output is produced. In transactional mode, output, dead letters and offsets commit atomically.
 *
 * The work is done by collaborators in `./consumer/`: `RecordDecoder` (a record or a dead-letter
 * reason), `BatchAttempts` (retries, isolation, deferral), `OffsetCommitter` (plain and
 * transactional commits), `PartitionParking` (deferred partitions), `StateBatches` (changelogs);
 * this class wires them to kafkajs and owns the lifecycle.
 */
export class ConsumerRunner {
  private readonly logger: Logger;
  readonly consumer: Consumer;
  private readonly byTopic: Map<string, Subscription>;
  private readonly restore: StateRestore;
  private crashed: Error | undefined;
  private running = false;
  private starter: BackgroundStart | undefined;
  private readonly stalls: StallTracker;
  /** `push_kafka_consumer_lag` of this consumer's partitions (see `trackConsumerLag`). */
  private readonly lag: { clear(): void };
  private readonly decoder: RecordDecoder;
  private readonly attempts: BatchAttempts;
  private readonly stateBatches: StateBatches;
  private readonly committer: OffsetCommitter;
  private readonly parking: PartitionParking;
  /** Co-partitioned groups: one input batch per partition number at a time. */
  private readonly turns = new PartitionTurns();
  private readonly ownWrites: OwnWrites;

  constructor(
    private readonly kafka: Kafka,
    private readonly producer: EventProducer,
    private readonly opts: ConsumerRunnerOptions,
  ) {
    const { groupId } = opts;
    const logger = (this.logger = new Logger(`ConsumerRunner:${groupId}`));
    this.byTopic = new Map(opts.subscriptions.map((s) => [s.topic.name, s]));
    this.consumer = kafka.consumer(consumerConfig(opts));
    const stalls = new StallTracker(
      groupId,
      opts.stallAfterMs ?? kafkaSettings.stallAfterMs,
      logger,
    );
    this.stalls = stalls;
    const retry = { initialMs: opts.retryDelayMs ?? 200, maxMs: opts.maxRetryDelayMs ?? 30000 };
    this.decoder = new RecordDecoder(opts.subscriptions.map((s) => s.topic));
    this.attempts = new BatchAttempts({
      batchAttempts: opts.batchAttempts ?? 3,
      retry,
      stalls,
      logger,
    });
    this.stateBatches = new StateBatches({ groupId, retry, stalls, logger });
    const { transactional } = opts;
    this.committer = new OffsetCommitter(kafka, producer, this.consumer, {
      groupId,
      transactional,
      logger,
    });
    this.parking = new PartitionParking(this.consumer, () => this.running);
    this.ownWrites = new OwnWrites(echoTopics(opts));
    this.restore = new StateRestore(this.kafka, this.consumer, {
      stateTopics: opts.subscriptions.filter((s) => s.role === 'state').map((s) => s.topic.name),
      enabled: opts.copartitioned ?? false,
      onAssigned: (partitions) => {
        this.ownWrites.clear(); // with the state: a restore applies every record
        opts.onAssigned?.(partitions);
      },
      beforeRestore: (partitions) => this.committer.fence(inputTopics(opts), partitions),
      logger,
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) =>
      this.stalls.retain(e.payload.memberAssignment),
    );
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      const err = e.payload.error;
      this.logger.error({ msg: 'consumer crashed', err: err.message, restart: e.payload.restart });
      if (!e.payload.restart) this.crashed = err;
    });
    // Metrics only: consumer lag per partition from kafkajs's batch events.
    this.lag = trackConsumerLag(this.consumer, groupId);
  }

  /** False once the consumer crashed for good; readiness reports it. */
  isHealthy(): boolean {
    return this.running && this.crashed === undefined;
  }

  /** Partitions failing on one offset for longer than the stall threshold (readiness names them). */
  stalledPartitions(): StalledPartition[] {
    return this.stalls.stalled();
  }

  /** True when every assigned partition's state is restored (always true without state). */
  isRestored(): boolean {
    return this.restore.isRestored();
  }

  /**
   * Starts without blocking the caller, retrying with backoff until it runs or `stop` is called:
   * a broker that is down or still loading at boot delays consuming, not the service's boot.
   */
  startInBackground(hooks: BackgroundStartHooks = {}): void {
    this.starter = new BackgroundStart({
      what: `consumer group ${this.opts.groupId}`,
      logger: this.logger,
      isFatal: hooks.isFatal,
    });
    this.starter.run(
      async () => {
        await hooks.prepare?.();
        await this.start();
        hooks.onStarted?.();
      },
      () => this.shutdown(),
    );
  }

  async start(): Promise<void> {
    await this.producer.connect();
    if (this.opts.newGroupStart === 'latest') await this.startNewGroupAtEnd();
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: this.opts.subscriptions.map((s) => s.topic.name),
      fromBeginning: this.opts.fromBeginning ?? true,
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.opts.partitionsConsumedConcurrently ?? 1,
      eachBatch: (payload) => settleBatchSpans(payload.batch, this.onBatch(payload)),
    });
    this.running = true;
  }

  private async startNewGroupAtEnd(): Promise<void> {
    await withAdmin(this.kafka, async (admin) => {
      const set = await startNewGroupAtEnd(
        this.kafka,
        admin,
        this.opts.groupId,
        inputTopics(this.opts),
      );
      for (const topic of set) {
        this.logger.log({ msg: 'new consumer group starts at the end', topic });
      }
    });
  }

  /**
   * Stops retrying a background start, stops fetching, lets the batch in flight finish and
   * commit, leaves the group, disconnects.
   */
  async stop(): Promise<void> {
    await this.starter?.stop();
    await this.shutdown();
  }

  private async shutdown(): Promise<void> {
    this.running = false;
    this.parking.clear();
    await this.consumer.disconnect();
    await this.committer.close();
    this.stalls.clear();
    this.lag.clear();
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0) return;
    if (this.byTopic.get(batch.topic)?.role === 'state') return this.onStateBatch(payload);
    if (!this.restore.holdUntilRestored(payload)) return;
    if (!this.opts.copartitioned) return this.onInputBatch(payload);
    // A batch that waited for its partition's turn through a rebalance is not handled: kafkajs
    // reads it again if the partition is still ours.
    const stillOurs = () => payload.isRunning() && !payload.isStale();
    return this.turns.run(batch.partition, async () => {
      if (stillOurs()) await this.onInputBatch(payload);
    });
  }

  private turnOf(payload: EachBatchPayload, first: string): PartitionTurn {
    const { batch, isRunning, isStale, heartbeat } = payload;
    const stillOurs = () => isRunning() && !isStale();
    return { topic: batch.topic, partition: batch.partition, first, stillOurs, heartbeat };
  }

  /**
   * A changelog batch: applied to memory, never committed, retried until it applies. The group's
   * own writes read back are skipped when its handler applied them on commit (`OwnWrites`).
   */
  private async onStateBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const fresh = batch.messages.filter((m) => !this.ownWrites.isEcho(batch.topic, m));
    const echoes = batch.messages.length - fresh.length;
    if (echoes > 0) {
      const group = this.opts.groupId;
      kafkaMetrics.recordsConsumed.inc({ group, topic: batch.topic, result: 'ok' }, echoes);
    }
    const { valid, invalid } = this.decoder.decodeBatch(batch.topic, batch.partition, fresh);
    const handle = this.byTopic.get(batch.topic)!.handle;
    const turn = this.turnOf(payload, batch.firstOffset() ?? '0');
    if (await this.stateBatches.apply(handle, valid, invalid, turn)) {
      payload.resolveOffset(batch.lastOffset());
    }
  }

  /**
   * An input batch: invalid records dead-lettered, the rest handled, the output and the offset
   * committed; then kafkajs moves past the batch, or the partition is parked until a deferral is
   * due. Nothing committed: the batch is read again.
   */
  private async onInputBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, isRunning, resolveOffset } = payload;
    const { topic, partition, messages } = batch;
    const started = process.hrtime.bigint();
    const turn = this.turnOf(payload, messages[0].offset);
    const { valid, invalid } = this.decoder.decodeBatch(topic, partition, messages);
    // Tracing: each record's context becomes its own `process` span's (a no-op when off).
    traceRecords(batch, this.opts.groupId, valid);
    const letters = invalid.map((d) => this.deadLetterInvalid(turn, d));
    const last = messages[messages.length - 1].offset;
    let handled: HandledBatch | undefined;
    try {
      handled = await this.handleAndCommit(turn, valid, letters, (BigInt(last) + 1n).toString());
      if (!handled) return; // stopping or partition lost: nothing committed, redelivered later
      // Moves kafkajs's fetch position past the batch (it refetches unresolved batches).
      const deferred = handled.deferFrom;
      if (deferred) this.parking.park(topic, partition, deferred);
      else resolveOffset(last);
      if (!deferred || deferred.offset !== turn.first) this.stalls.progressed(topic, partition);
    } catch (e) {
      this.stalls.failed(topic, partition, turn.first, e as Error);
      // Nothing of this batch is committed: read it again rather than move past it, and let
      // kafkajs restart the consumer (a non-retriable error would stop it for good).
      if (isRunning()) this.consumer.seek({ topic, partition, offset: turn.first });
      throw new BatchFailedError(topic, partition, e as Error);
    }
    this.countBatch(
      topic,
      valid.length - handled.rejected,
      letters.length + handled.rejected,
      started,
    );
  }

  private deadLetterInvalid({ topic, partition }: PartitionTurn, d: InvalidRecord): EncodedRecord {
    const { code, message } = d.reason;
    this.logger.warn({
      msg: 'dead-lettering record',
      topic,
      partition,
      offset: d.message.offset,
      code,
      reason: message,
    });
    return encodeOutbound(deadLetterFor(topic, partition, d.message, d.reason));
  }

  /**
   * Handles the batch and commits what it produced (up to its deferral, if any). A commit that
   * fails is retried by handling the batch again, a few times, while the partition is ours.
   */
  private async handleAndCommit(
    turn: PartitionTurn,
    valid: ConsumedRecord<unknown>[],
    letters: EncodedRecord[],
    end: string,
  ): Promise<HandledBatch | undefined> {
    const { topic, partition } = turn;
    const handle = this.byTopic.get(topic)!.handle;
    const backoff = new Backoff(COMMIT_RETRY);
    for (let attempt = 1; ; attempt++) {
      const handled = await this.attempts.run(handle, valid, letters, turn);
      if (!handled) return undefined;
      const offset = handled.deferFrom?.offset ?? end;
      try {
        await this.committer.commit(topic, partition, offset, handled.records, () => {
          this.ownWrites.remember(handled.records);
          handled.onCommit.forEach((f) => f());
        });
        return handled;
      } catch (e) {
        const err = (e as Error).message;
        kafkaMetrics.batchFailures.inc({ group: this.opts.groupId, topic });
        this.stalls.failed(topic, partition, turn.first, e as Error);
        if (!turn.stillOurs() || attempt >= COMMIT_ATTEMPTS) throw e;
        this.logger.warn({
          msg: 'commit failed; handling the batch again',
          topic,
          partition,
          attempt,
          err,
        });
        await sleep(backoff.next());
        // Throws when the group rebalanced: then the partition may be another member's, and
        // re-initialising its transactional id here would fence the rightful owner.
        await turn.heartbeat();
      }
    }
  }

  private countBatch(topic: string, ok: number, deadLetters: number, started: bigint): void {
    const group = this.opts.groupId;
    kafkaMetrics.recordsConsumed.inc({ group, topic, result: 'ok' }, Math.max(0, ok));
    if (deadLetters > 0) {
      kafkaMetrics.recordsConsumed.inc({ group, topic, result: 'dead_letter' }, deadLetters);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    kafkaMetrics.batchSeconds.observe({ group, topic }, seconds);
  }
}
