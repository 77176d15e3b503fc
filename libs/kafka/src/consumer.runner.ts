import { Logger } from '@nestjs/common';
import { HEADERS, type TopicDefinition } from '@app/contracts';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import { deadLetterFor, deadLetterForRecord, type DeadLetterReason } from './dead-letter.util';
import {
  encodeOutbound,
  splitByBytes,
  type EncodedRecord,
  type EventProducer,
  type OutboundRecord,
} from './event.producer';
import {
  PoisonRecordException,
  RetryableException,
  SchemaViolationException,
} from './kafka.exception';
import { CopartitionedAssigner } from './copartitioned.assigner';
import { kafkaMetrics, trackConsumerLag } from './kafka.metrics';
import { StateRestore } from './state-restore';
import { BackgroundStart } from './background-start';
import { startNewGroupAtEnd } from './group-offsets';
import { decodeUtf8, formatZodIssues, headersToStrings } from './record-codec';
import { StallTracker, type StalledPartition } from './stall.tracker';
import { kafkaSettings } from './kafka.settings';
import {
  isCorrelationId,
  isTraceparent,
  newContext,
  runWithContext,
  // Tracing (off unless configured): a span per handled record, ended when its batch settles.
  settleBatchSpans,
  traceRecords,
  withRecordTrace,
  type RecordContext,
} from '@app/observability';

/** A record that passed its topic's schema. `value` is null only for tombstones on compacted topics. */
export interface ConsumedRecord<T> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: T | null;
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
}

export type BatchHandler<T> = (
  records: ConsumedRecord<T>[],
  meta: { topic: string; partition: number },
) => Promise<HandlerResult | void>;

export interface Subscription<T = unknown> {
  topic: TopicDefinition<T, unknown>;
  handle: BatchHandler<T>;
  /**
   * `state`: a compacted changelog read into memory. Its offsets are never committed, so every
   * assignment re-reads it from the start; invalid values are skipped (logged and counted) rather
   * than dead-lettered again on every restore. Default `input`.
   */
  role?: 'input' | 'state';
}

export interface ConsumerRunnerOptions {
  groupId: string;
  subscriptions: Subscription<any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  /**
   * Consume-transform-produce in one Kafka transaction per batch. The transactional id is derived
   * from the input partition, so the instance that takes a partition over fences the one that lost
   * it (kafkajs has no group-metadata fencing).
   */
  transactional?: { idPrefix: string };
  fromBeginning?: boolean;
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

type Decoded =
  | { ok: true; record: ConsumedRecord<unknown> }
  | { ok: false; message: KafkaMessage; reason: DeadLetterReason };

/** A fresh context for a record without a correlation id, keeping its trace if it had one. */
const withTraceparent = (ctx: RecordContext, traceparent: string | undefined): RecordContext =>
  traceparent ? { ...ctx, traceparent } : ctx;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Thrown to kafkajs so that it rejoins and reads the batch again (it restarts on retriable errors). */
class BatchFailedError extends Error {
  readonly retriable = true;
  constructor(topic: string, partition: number, cause: Error) {
    super(`batch of ${topic}[${partition}] not committed: ${cause.message}`);
    this.name = 'BatchFailedError';
  }
}

/**
 * Runs a consumer group: validates every value against its topic's schema, dead-letters what fails
 * (with the original bytes and the reason) so that the partition moves on, retries what may pass,
 * isolates a poison record inside a failing batch, and commits offsets only after the handler's
 * output is produced. In transactional mode, output, dead letters and offsets commit atomically.
 */
export class ConsumerRunner {
  private readonly logger: Logger;
  readonly consumer: Consumer;
  private readonly txProducers = new Map<string, Promise<Producer>>();
  private readonly byTopic: Map<string, Subscription<unknown>>;
  private readonly restore: StateRestore;
  private crashed: Error | undefined;
  private running = false;
  private readonly resumeTimers = new Map<string, NodeJS.Timeout>();
  private starter: BackgroundStart | undefined;
  private readonly stalls: StallTracker;
  /** `push_kafka_consumer_lag` of this consumer's partitions (see `trackConsumerLag`). */
  private readonly lag: { clear(): void };

  constructor(
    private readonly kafka: Kafka,
    private readonly producer: EventProducer,
    private readonly opts: ConsumerRunnerOptions,
  ) {
    this.logger = new Logger(`ConsumerRunner:${opts.groupId}`);
    this.byTopic = new Map(
      opts.subscriptions.map((s) => [s.topic.name, s as Subscription<unknown>]),
    );
    this.consumer = kafka.consumer({
      groupId: opts.groupId,
      readUncommitted: false,
      sessionTimeout: opts.sessionTimeout ?? 30000,
      heartbeatInterval: 3000,
      maxBytesPerPartition: opts.maxBytesPerPartition ?? 1048576,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: opts.maxWaitTimeInMs ?? (opts.copartitioned ? 500 : 5000),
      ...(opts.copartitioned ? { partitionAssigners: [CopartitionedAssigner] } : {}),
    });
    this.restore = new StateRestore(this.kafka, this.consumer, {
      stateTopics: opts.subscriptions.filter((s) => s.role === 'state').map((s) => s.topic.name),
      enabled: opts.copartitioned ?? false,
      onAssigned: (partitions) => opts.onAssigned?.(partitions),
      beforeRestore: (partitions) => this.fenceInputPartitions(partitions),
      logger: this.logger,
    });
    this.stalls = new StallTracker(
      opts.groupId,
      opts.stallAfterMs ?? kafkaSettings.stallAfterMs,
      this.logger,
    );
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) =>
      this.stalls.retain(e.payload.memberAssignment),
    );
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      const err = e.payload.error;
      this.logger.error({ msg: 'consumer crashed', err: err.message, restart: e.payload.restart });
      if (!e.payload.restart) this.crashed = err;
    });
    // Metrics only: consumer lag per partition from kafkajs's batch events.
    this.lag = trackConsumerLag(this.consumer, opts.groupId);
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
   * In transactional mode, registering the transactional ids of newly assigned input partitions
   * fences the previous owner and aborts its open transaction, so that restore can read to the end.
   */
  private async fenceInputPartitions(partitions: number[]): Promise<void> {
    if (!this.opts.transactional) return;
    const inputs = this.opts.subscriptions.filter((s) => s.role !== 'state');
    await Promise.all(
      inputs.flatMap((s) =>
        partitions.map(async (p) => {
          const producer = await this.txProducer(s.topic.name, p);
          const tx = await producer.transaction();
          await tx.abort();
        }),
      ),
    );
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
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      for (const s of this.opts.subscriptions.filter((x) => x.role !== 'state')) {
        if (await startNewGroupAtEnd(admin, this.opts.groupId, s.topic.name))
          this.logger.log({ msg: 'new consumer group starts at the end', topic: s.topic.name });
      }
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
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
    this.resumeTimers.forEach((t) => clearTimeout(t));
    this.resumeTimers.clear();
    await this.consumer.disconnect();
    const producers = await Promise.allSettled([...this.txProducers.values()]);
    await Promise.allSettled(
      producers.flatMap((p) => (p.status === 'fulfilled' ? [p.value.disconnect()] : [])),
    );
    this.txProducers.clear();
    this.stalls.clear();
    this.lag.clear();
  }

  private decode(topic: string, partition: number, message: KafkaMessage): Decoded {
    const sub = this.byTopic.get(topic);
    const fail = (code: string, msg: string): Decoded => ({
      ok: false,
      message,
      reason: { code, message: msg },
    });
    if (!sub) return fail('UNKNOWN_TOPIC', `no handler for ${topic}`);
    const headers = headersToStrings(message.headers);
    const key = message.key ? (decodeUtf8(message.key) ?? null) : null;
    // Ids from another producer are logged and carried on: only well-formed ones are kept.
    const correlationId = headers[HEADERS.correlationId];
    const traceparent = isTraceparent(headers[HEADERS.traceparent])
      ? headers[HEADERS.traceparent]
      : undefined;
    const context: RecordContext = isCorrelationId(correlationId)
      ? { correlationId, traceparent }
      : withTraceparent(newContext(), traceparent);
    const base = {
      topic,
      partition,
      offset: message.offset,
      key,
      headers,
      timestamp: message.timestamp,
      context,
      raw: message,
    };
    if (message.value === null || message.value.length === 0) {
      if (sub.topic.cleanup === 'compact' && key !== null)
        return { ok: true, record: { ...base, value: null } };
      return fail(
        'EMPTY_VALUE',
        'a null or empty value is only allowed as a keyed tombstone on a compacted topic',
      );
    }
    const text = decodeUtf8(message.value);
    if (text === undefined) return fail('INVALID_UTF8', 'the value is not valid UTF-8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      return fail('INVALID_JSON', (e as Error).message);
    }
    const parsed = sub.topic.schema.safeParse(json);
    if (!parsed.success) return fail('SCHEMA_VIOLATION', formatZodIssues(parsed.error).join('; '));
    return { ok: true, record: { ...base, value: parsed.data } };
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale, resolveOffset } = payload;
    const { topic, partition } = batch;
    if (batch.messages.length === 0) return;
    if (this.byTopic.get(topic)?.role === 'state') return this.onStateBatch(payload);
    if (!this.restore.holdUntilRestored(payload)) return;
    const started = process.hrtime.bigint();
    const first = batch.messages[0].offset;
    const decoded = batch.messages.map((m) => this.decode(topic, partition, m));
    const valid = decoded.flatMap((d) => (d.ok ? [d.record] : []));
    // Tracing: each record's context becomes its own `process` span's (a no-op when off).
    traceRecords(batch, this.opts.groupId, valid);
    const letters = decoded.flatMap((d) =>
      d.ok ? [] : [encodeOutbound(deadLetterFor(topic, partition, d.message, d.reason))],
    );
    for (const d of decoded) {
      if (!d.ok)
        this.logger.warn({
          msg: 'dead-lettering record',
          topic,
          partition,
          offset: d.message.offset,
          code: d.reason.code,
          reason: d.reason.message,
        });
    }
    let nextOffset = (BigInt(batch.messages[batch.messages.length - 1].offset) + 1n).toString();
    let deferred: DeferredRest | undefined;

    const stillOurs = () => isRunning() && !isStale();
    try {
      for (let attempt = 1; ; attempt++) {
        const results = await this.runHandler(
          topic,
          partition,
          valid,
          letters,
          stillOurs,
          heartbeat,
        );
        if (results === undefined) return; // stopping or partition lost: nothing committed, redelivered later
        deferred = results.deferFrom;
        if (deferred) nextOffset = deferred.offset;
        try {
          await this.commit(topic, partition, nextOffset, results.records, () =>
            results.onCommit.forEach((f) => f()),
          );
          break;
        } catch (e) {
          // A commit can fail on the client after the coordinator committed it (a lost EndTxn
          // answer): then the offsets are there, and handling the batch again would duplicate.
          if (this.opts.transactional && (await this.isCommitted(topic, partition, nextOffset))) {
            this.logger.warn({ msg: 'commit reported failure but is committed', topic, partition });
            results.onCommit.forEach((f) => f());
            break;
          }
          kafkaMetrics.batchFailures.inc({ group: this.opts.groupId, topic });
          this.stalls.failed(topic, partition, first, e as Error);
          if (!stillOurs() || attempt >= 5) throw e;
          this.logger.warn({
            msg: 'commit failed; handling the batch again',
            topic,
            partition,
            attempt,
            err: (e as Error).message,
          });
          await sleep(Math.min(200 * 2 ** attempt, 5000));
          // Throws when the group rebalanced: then the partition may be another member's, and
          // re-initialising its transactional id here would fence the rightful owner.
          await heartbeat();
        }
      }
      // Moves kafkajs's fetch position past the batch (it refetches unresolved batches).
      if (deferred) this.deferPartition(topic, partition, deferred);
      else resolveOffset(batch.messages[batch.messages.length - 1].offset);
      if (!deferred || deferred.offset !== first) this.stalls.progressed(topic, partition);
    } catch (e) {
      this.stalls.failed(topic, partition, first, e as Error);
      // Nothing of this batch is committed: read it again rather than move past it, and let
      // kafkajs restart the consumer (a non-retriable error would stop it for good).
      if (isRunning()) this.consumer.seek({ topic, partition, offset: first });
      throw new BatchFailedError(topic, partition, e as Error);
    }
    kafkaMetrics.recordsConsumed.inc(
      { group: this.opts.groupId, topic, result: 'ok' },
      valid.length,
    );
    if (letters.length)
      kafkaMetrics.recordsConsumed.inc(
        { group: this.opts.groupId, topic, result: 'dead_letter' },
        letters.length,
      );
    kafkaMetrics.batchSeconds.observe(
      { group: this.opts.groupId, topic },
      Number(process.hrtime.bigint() - started) / 1e9,
    );
  }

  /** A changelog batch: applied to memory, never committed, retried until it applies. */
  private async onStateBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, isRunning, isStale, resolveOffset, heartbeat } = payload;
    const { topic, partition } = batch;
    const decoded = batch.messages.map((m) => this.decode(topic, partition, m));
    const valid = decoded.flatMap((d) => (d.ok ? [d.record] : []));
    for (const d of decoded) {
      if (d.ok) continue;
      this.logger.warn({
        msg: 'skipping invalid state record',
        topic,
        partition,
        offset: d.message.offset,
        code: d.reason.code,
        reason: d.reason.message,
      });
      kafkaMetrics.recordsConsumed.inc({ group: this.opts.groupId, topic, result: 'skipped' });
    }
    const sub = this.byTopic.get(topic)!;
    let delay = this.opts.retryDelayMs ?? 200;
    while (valid.length) {
      try {
        const r = await sub.handle(valid, { topic, partition });
        r?.onCommit?.();
        break;
      } catch (e) {
        if (!isRunning() || isStale()) return;
        this.stalls.failed(topic, partition, batch.firstOffset() ?? '0', e as Error);
        this.logger.warn({
          msg: 'state batch failed; retrying',
          topic,
          partition,
          err: (e as Error).message,
        });
        await sleep(delay);
        delay = Math.min(delay * 2, this.opts.maxRetryDelayMs ?? 30000);
        await heartbeat();
      }
    }
    this.stalls.progressed(topic, partition);
    kafkaMetrics.recordsConsumed.inc(
      { group: this.opts.groupId, topic, result: 'ok' },
      valid.length,
    );
    resolveOffset(batch.lastOffset());
  }

  /**
   * Runs the handler over the batch and encodes what it returns. Retryable failures wait and try
   * again for as long as the partition is ours; other failures are retried a few times (a record
   * refused for what it is, e.g. an output too large for Kafka, at once), then records are
   * handled one at a time so that only the poison one is dead-lettered.
   */
  private async runHandler(
    topic: string,
    partition: number,
    valid: ConsumedRecord<unknown>[],
    letters: EncodedRecord[],
    stillOurs: () => boolean,
    heartbeat: () => Promise<void>,
  ): Promise<
    { records: EncodedRecord[]; onCommit: Array<() => void>; deferFrom?: DeferredRest } | undefined
  > {
    const sub = this.byTopic.get(topic)!;
    const records: EncodedRecord[] = [...letters];
    const onCommit: Array<() => void> = [];
    if (valid.length === 0) return { records, onCommit };
    // The handler's output is validated and sized here, so that an output Kafka would refuse
    // fails the records that made it, never the commit.
    const attempt = async (rs: ConsumedRecord<unknown>[]) =>
      runWithContext(rs[0].context, () =>
        withRecordTrace(rs[0].context, async () => {
          const r = (await sub.handle(rs, { topic, partition })) ?? {};
          return { ...r, encoded: (r.records ?? []).map(encodeOutbound) };
        }),
      );
    const isPoison = (e: Error) =>
      e instanceof PoisonRecordException || e instanceof SchemaViolationException;
    const attempts = this.opts.batchAttempts ?? 3;
    let delay = this.opts.retryDelayMs ?? 200;
    const maxDelay = this.opts.maxRetryDelayMs ?? 30000;
    for (let i = 1; ; i++) {
      try {
        const r = await attempt(valid);
        records.push(...r.encoded);
        if (r.onCommit) onCommit.push(r.onCommit);
        return { records, onCommit, deferFrom: r.deferFrom };
      } catch (e) {
        if (!stillOurs()) return undefined;
        const err = e as Error;
        const retryable = err instanceof RetryableException;
        if (retryable || (i < attempts && !isPoison(err))) {
          this.stalls.failed(topic, partition, valid[0].offset, err);
          this.logger.warn({
            msg: 'batch failed; retrying',
            topic,
            partition,
            attempt: i,
            err: err.message,
          });
          await sleep(delay);
          delay = Math.min(delay * 2, maxDelay);
          await heartbeat().catch(() => undefined);
          if (!stillOurs()) return undefined;
          if (retryable || valid.length === 1) continue;
          if (i < attempts) continue;
        }
        break;
      }
    }
    // Isolate the poison record(s): each record alone; what still fails is dead-lettered.
    for (const rec of valid) {
      for (;;) {
        try {
          const r = await attempt([rec]);
          records.push(...r.encoded);
          if (r.onCommit) onCommit.push(r.onCommit);
          // Deferred: this record and those after it are read again later, none is skipped.
          if (r.deferFrom) return { records, onCommit, deferFrom: r.deferFrom };
        } catch (e) {
          const err = e as Error;
          if (err instanceof RetryableException) {
            this.stalls.failed(topic, partition, rec.offset, err);
            await sleep(delay);
            delay = Math.min(delay * 2, maxDelay);
            await heartbeat().catch(() => undefined);
            if (!stillOurs()) return undefined;
            continue;
          }
          const code = isPoison(err) ? err.code : 'HANDLER_ERROR';
          this.logger.warn({
            msg: 'dead-lettering record the handler rejects',
            topic,
            partition,
            offset: rec.offset,
            code,
            err: err.message,
          });
          records.push(encodeOutbound(deadLetterForRecord(rec, { code, message: err.message })));
        }
        break;
      }
    }
    return { records, onCommit };
  }

  /**
   * Parks a partition whose next record is not due: read it again from `offset` at `until`.
   * The seek makes kafkajs drop what it already fetched; the timer resumes even if the partition
   * moved to another member meanwhile (resuming an unassigned partition does nothing).
   */
  private deferPartition(topic: string, partition: number, d: DeferredRest): void {
    const id = `${topic}|${partition}`;
    clearTimeout(this.resumeTimers.get(id));
    this.consumer.pause([{ topic, partitions: [partition] }]);
    this.consumer.seek({ topic, partition, offset: d.offset });
    const timer = setTimeout(
      () => {
        this.resumeTimers.delete(id);
        if (this.running) this.consumer.resume([{ topic, partitions: [partition] }]);
      },
      Math.max(0, d.until - Date.now()),
    );
    timer.unref();
    this.resumeTimers.set(id, timer);
  }

  /**
   * Produces the records and commits the offset: non-transactional, records first (at least
   * once); transactional, both in one transaction. Either way the records go out in calls that fit
   * the topics' size limits.
   */
  private async commit(
    topic: string,
    partition: number,
    offset: string,
    records: EncodedRecord[],
    onCommit: () => void,
  ): Promise<void> {
    if (!this.opts.transactional) {
      await this.producer.sendEncoded(records);
      await this.consumer.commitOffsets([{ topic, partition, offset }]);
      onCommit();
      return;
    }
    const producer = await this.txProducer(topic, partition);
    const tx = await producer.transaction();
    try {
      for (const topicMessages of splitByBytes(records))
        await tx.sendBatch({ topicMessages, acks: -1 });
      await tx.sendOffsets({
        consumerGroupId: this.opts.groupId,
        topics: [{ topic, partitions: [{ partition, offset }] }],
      });
      await tx.commit();
    } catch (e) {
      await tx.abort().catch(() => undefined);
      // The producer may be fenced or broken: start afresh on the next batch.
      await this.dropTxProducer(topic, partition);
      throw e;
    }
    onCommit();
  }

  /** Whether the group's committed offset for the partition already reached `offset`. */
  private async isCommitted(topic: string, partition: number, offset: string): Promise<boolean> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      const [t] = await admin.fetchOffsets({ groupId: this.opts.groupId, topics: [topic] });
      const committed = t?.partitions.find((p) => p.partition === partition)?.offset ?? '-1';
      return BigInt(committed) >= BigInt(offset);
    } catch {
      return false; // unknown: handle again (the transaction retry path)
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private txProducer(topic: string, partition: number): Promise<Producer> {
    const id = `${this.opts.transactional!.idPrefix}-${topic}-${partition}`;
    let p = this.txProducers.get(id);
    if (!p) {
      const producer = this.kafka.producer({
        idempotent: true,
        transactionalId: id,
        maxInFlightRequests: 1,
        transactionTimeout: 60000,
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
      });
      p = producer.connect().then(() => producer);
      p.catch(() => this.txProducers.delete(id));
      this.txProducers.set(id, p);
    }
    return p;
  }

  private async dropTxProducer(topic: string, partition: number): Promise<void> {
    const id = `${this.opts.transactional!.idPrefix}-${topic}-${partition}`;
    const p = this.txProducers.get(id);
    this.txProducers.delete(id);
    if (p) await p.then((x) => x.disconnect()).catch(() => undefined);
  }
}
