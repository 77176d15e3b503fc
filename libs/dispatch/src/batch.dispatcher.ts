import type { TopicDefinition } from '@app/contracts';
import type { ConsumedRecord, HandlerResult, OutboundRecord } from '@app/kafka';
import { CounterTally, dispatchMetrics, metricApp, reportRetryBacklog } from './dispatch.metrics';
import type {
  DispatchProvider,
  DispatchRequest,
  SendResult,
  TerminalStatus,
} from './dispatch.types';
import { splitDue } from './due.util';
import {
  buildInvalidation,
  buildOutcome,
  invalidationRecord,
  outcomeRecord,
  rejectedDeadLetter,
  retryRecord,
} from './outcome.util';
import { RecentJobs } from './recent-jobs';
import { RetryPolicy } from './retry.policy';

/**
 * Sends requests to the provider: one result per request, in the same order. It must not reject
 * because one request failed (classify it instead) and must not hang (bound every send).
 * Throwing means "nothing of this batch is known": the batch is handled again.
 */
export type SendFn<R> = (requests: R[], meta: { partition: number }) => Promise<SendResult[]>;

export interface BatchDispatcherOptions<R extends DispatchRequest> {
  provider: DispatchProvider;
  retryTopic: TopicDefinition<R, unknown>;
  send: SendFn<R>;
  retryPolicy?: RetryPolicy;
  memory?: RecentJobs;
  /** Injected clock for tests. */
  now?: () => number;
  /** The configured apps (`AppsRegistry`): bounds the metrics' `app` label (see `metricApp`). */
  apps?: { get(appId: string): unknown };
}

const BACKLOG_FORGET_AFTER_MS = 60_000;

interface Job<R> {
  rec: ConsumedRecord<R>;
  req: R;
}

/**
 * The provider-neutral half of a dispatcher: idempotency on redelivery, expiry, the retry topic,
 * outcomes, invalidations and dead letters. A dispatcher wires `handleRequests` to its request
 * topic and `handleRetries` to its retry topic (both through `ConsumerRunner`), and supplies `send`.
 */
export class BatchDispatcher<R extends DispatchRequest> {
  readonly memory: RecentJobs;
  private readonly policy: RetryPolicy;
  private readonly now: () => number;
  /** Parked retries per retry-topic partition, and until when the partition is parked. */
  private readonly backlog = new Map<number, { count: number; until: number }>();
  /** Sends and outcomes counted per label set, applied when a batch is done (`dispatch`). */
  private readonly sends = new CounterTally(dispatchMetrics.sends);
  private readonly outcomes = new CounterTally(dispatchMetrics.outcomes);
  /** The last outcome time as an ISO string: the outcomes of a batch share their millisecond. */
  private lastAt = { now: NaN, iso: '' };

  constructor(private readonly opts: BatchDispatcherOptions<R>) {
    this.memory = opts.memory ?? new RecentJobs();
    this.policy = opts.retryPolicy ?? new RetryPolicy();
    this.now = opts.now ?? Date.now;
    reportRetryBacklog(opts.provider, () => this.retryBacklog());
  }

  /**
   * Retries fetched and parked until due. A partition not read again within a minute of its due
   * time is no longer counted: it moved to another instance, which reports it.
   */
  retryBacklog(): number {
    const now = this.now();
    let n = 0;
    for (const [p, b] of this.backlog) {
      if (b.until + BACKLOG_FORGET_AFTER_MS < now) this.backlog.delete(p);
      else n += b.count;
    }
    return n;
  }

  /** Handler for the request topic. */
  handleRequests = async (
    records: ConsumedRecord<R>[],
    meta: { partition: number },
  ): Promise<HandlerResult> => ({ records: await this.dispatch(records, meta.partition) });

  /** Handler for the retry topic: handles what is due, parks the partition until the rest is. */
  handleRetries = async (
    records: ConsumedRecord<R>[],
    meta: { partition: number },
  ): Promise<HandlerResult> => {
    const { due, deferFrom } = splitDue(records, this.now());
    if (deferFrom) {
      this.backlog.set(meta.partition, {
        count: records.length - due.length,
        until: deferFrom.until,
      });
    } else this.backlog.delete(meta.partition);
    return { records: await this.dispatch(due, meta.partition), deferFrom };
  };

  private async dispatch(
    records: ConsumedRecord<R>[],
    partition: number,
  ): Promise<OutboundRecord[]> {
    try {
      return await this.dispatchCounted(records, partition);
    } finally {
      // Concurrent partitions share the tallies: each batch applies whatever is counted so far.
      this.sends.flush();
      this.outcomes.flush();
    }
  }

  private async dispatchCounted(
    records: ConsumedRecord<R>[],
    partition: number,
  ): Promise<OutboundRecord[]> {
    const out: OutboundRecord[] = [];
    const toSend: Job<R>[] = [];
    const seen = new Set<string>();
    for (const rec of records) {
      const req = rec.value;
      if (req === null) continue;
      const id = `${req.jobId}#${req.attempt}`;
      if (seen.has(id)) continue; // the same job twice in one batch: send it once
      seen.add(id);
      const recall = this.memory.recall(partition, req.jobId, req.attempt);
      if (recall.kind !== 'new') {
        dispatchMetrics.replayed.inc({ provider: this.opts.provider, kind: recall.kind });
        if (recall.kind === 'replay') out.push(...recall.records);
        continue;
      }
      if (this.now() >= Date.parse(req.expiresAt)) {
        this.finish(
          partition,
          req,
          out,
          this.terminal(
            rec,
            req,
            'expired',
            'EXPIRED',
            'expired before it could be sent',
            req.attempt,
          ),
        );
        continue;
      }
      toSend.push({ rec, req });
    }
    if (toSend.length === 0) return out;
    const results = await this.opts.send(
      toSend.map((j) => j.req),
      { partition },
    );
    if (results.length !== toSend.length) {
      throw new Error(`send returned ${results.length} results for ${toSend.length} requests`);
    }
    toSend.forEach((job, i) => this.apply(partition, job, results[i], out));
    return out;
  }

  private apply(
    partition: number,
    { rec, req }: Job<R>,
    r: SendResult,
    out: OutboundRecord[],
  ): void {
    const p = this.opts.provider;
    const reason = r.kind === 'delivered' ? (r.code ?? 'ok') : r.code;
    const app = metricApp(this.opts.apps, req.appId);
    this.sends.add(`${app}\0${r.kind}\0${reason}`, { provider: p, app, status: r.kind, reason });
    switch (r.kind) {
      case 'delivered': {
        const recs = this.terminal(rec, req, 'delivered', r.code ?? null, null);
        if (r.invalidation) {
          recs.push(invalidationRecord(buildInvalidation(req, p, r.invalidation, this.now()), rec));
        }
        return this.finish(partition, req, out, recs);
      }
      case 'invalid_token': {
        const recs = this.terminal(rec, req, 'invalid_token', r.code, r.message);
        recs.push(invalidationRecord(buildInvalidation(req, p, r.invalidation, this.now()), rec));
        return this.finish(partition, req, out, recs);
      }
      case 'rejected': {
        const recs = this.terminal(rec, req, 'rejected', r.code, r.message);
        recs.push(rejectedDeadLetter(rec, r.code, r.message));
        return this.finish(partition, req, out, recs);
      }
      case 'failed':
        return this.finish(
          partition,
          req,
          out,
          this.terminal(rec, req, 'failed', r.code, r.message),
        );
      case 'retry': {
        const d = this.policy.decide(req, r, this.now());
        if (d.kind === 'expired') {
          const why = `expires before the next try (last: ${r.code}: ${r.message})`;
          return this.finish(partition, req, out, this.terminal(rec, req, 'expired', r.code, why));
        }
        dispatchMetrics.retriesScheduled.inc({ provider: p, reason: r.code });
        const recs = [retryRecord(this.opts.retryTopic, req, d.notBefore, rec)];
        this.memory.remember(partition, req.jobId, req.attempt, false, recs);
        out.push(...recs);
        return;
      }
    }
  }

  private terminal(
    rec: ConsumedRecord<R>,
    req: R,
    status: TerminalStatus,
    code: string | null,
    reason: string | null,
    attempts = req.attempt + 1,
  ): OutboundRecord[] {
    const now = this.now();
    if (now !== this.lastAt.now) this.lastAt = { now, iso: new Date(now).toISOString() };
    const o = buildOutcome(req, this.opts.provider, status, {
      code,
      reason,
      attempts,
      now,
      at: this.lastAt.iso,
    });
    const app = metricApp(this.opts.apps, req.appId);
    const labels = { provider: this.opts.provider, app, status };
    this.outcomes.add(`${app}\0${status}`, labels);
    dispatchMetrics.outcomeLatencySeconds.observe(labels, (o.latencyMs ?? 0) / 1000);
    const sentAt = req.sentAt ? Date.parse(req.sentAt) : NaN;
    if (Number.isFinite(sentAt) && status !== 'expired') {
      dispatchMetrics.endToEndSeconds.observe(labels, Math.max(0, now - sentAt) / 1000);
    }
    return [outcomeRecord(o, rec)];
  }

  private finish(partition: number, req: R, out: OutboundRecord[], recs: OutboundRecord[]): void {
    this.memory.remember(partition, req.jobId, req.attempt, true, recs);
    out.push(...recs);
  }
}
