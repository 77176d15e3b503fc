import { Logger } from '@nestjs/common';
import { TOPICS, type WebhookDelivery } from '@app/contracts';
import { metricApp } from '@app/dispatch';
import { outbound, type OutboundRecord } from '@app/kafka';
import type { DeliveryJob } from './webhook-batcher';
import { postWebhook, type AttemptResult } from './webhook-http';
import type { WebhookTarget } from './webhook-targets';
import { webhookMetrics } from './webhooks.metrics';

/** Deliveries coming back at the same time are spread over this much more (ms). */
const SPREAD_MS = 1000;
const MAX_LAST_ERROR_CHARS = 512;

export interface DelivererSettings {
  /** How long a batch waits for its POSTs before handing the rest to the retry topic. */
  handoffMs: number;
  /** Age (since `queuedAt`) after which a delivery is dead-lettered. */
  maxAgeMs: number;
  /**
   * The longest a delivery waits on the retry topic before it is looked at again (it parks its
   * partition until then): a longer pause (a Retry-After) is kept by the webhook's gate, and the
   * delivery is written back again. Bounds how long it holds up other webhooks' retries there.
   */
  maxParkMs: number;
  /** Bounds the `app` label (the apps file). */
  apps?: { get(appId: string): unknown };
  now?: () => number;
  random?: () => number;
}

/** A bounded memory of ids (oldest forgotten first). */
export class RecentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly capacity: number) {}

  add(id: string): void {
    this.ids.delete(id);
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value!);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }
}

/** The attempt's result, or undefined when `deadline` (epoch ms) came first. */
function beforeDeadline<T>(p: Promise<T>, deadline: number, now: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - now));
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * POSTs deliveries, each webhook through its own gate (concurrency, pause after failures), and
 * waits for them at most `handoffMs`: a delivery acknowledged by then is done; one that failed,
 * could not start (webhook paused or full) or is still in flight becomes a record for
 * `push.webhook.retry.v1` with the same delivery id, due when the webhook may be tried again.
 * The caller produces those records before it commits its input, so nothing is lost on a crash,
 * and no endpoint holds a partition longer than `handoffMs`.
 */
export class WebhookDeliverer {
  /** Deliveries acknowledged after they were handed over: their retry record is dropped. */
  readonly lateAcks = new RecentIds(10_000);
  /** Deliveries with a POST in flight in this process. */
  private readonly inFlight = new Set<string>();
  private readonly stop = new AbortController();
  private readonly log = new Logger('Webhooks');
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly settings: DelivererSettings) {
    this.now = settings.now ?? Date.now;
    this.random = settings.random ?? Math.random;
  }

  async deliver(jobs: DeliveryJob[]): Promise<OutboundRecord[]> {
    if (jobs.length === 0) return [];
    const deadline = this.now() + this.settings.handoffMs;
    const out = await Promise.all(jobs.map((job) => this.attempt(job, deadline)));
    return out.filter((r): r is OutboundRecord => r !== undefined);
  }

  /** Aborts the POSTs still in flight and gives up waiting for slots (shutdown). */
  close(targets: WebhookTarget[]): void {
    this.stop.abort();
    for (const t of targets) t.gate.close();
  }

  private async attempt(job: DeliveryJob, deadline: number): Promise<OutboundRecord | undefined> {
    const { target, delivery } = job;
    // Its previous attempt (handed over) is still in flight here: no second one alongside.
    if (this.inFlight.has(delivery.deliveryId) || !(await target.gate.acquire(deadline))) {
      return this.later(
        job,
        delivery.attempts,
        delivery.lastError,
        target.gate.nextChance(target.timeoutMs),
      );
    }
    const attempt = delivery.attempts + 1;
    const started = this.now();
    let handedOff = false;
    this.inFlight.add(delivery.deliveryId);
    const post = postWebhook(target, delivery, attempt, this.stop.signal).then((r) => {
      this.inFlight.delete(delivery.deliveryId);
      this.settle(job, attempt, r, started, !handedOff);
      if (r.ok && handedOff) this.lateAcks.add(delivery.deliveryId);
      return r;
    });
    const r = await beforeDeadline(post, deadline, this.now());
    if (r === undefined) {
      handedOff = true;
      target.gate.markSlow();
      // Back once this attempt has ended either way (it is aborted at timeoutMs).
      const why = `IN_FLIGHT: no answer within WEBHOOK_HANDOFF_MS=${this.settings.handoffMs}`;
      return this.later(job, attempt, why, started + target.timeoutMs + SPREAD_MS);
    }
    return r.ok
      ? undefined
      : this.later(job, attempt, r.error, target.gate.nextChance(target.timeoutMs));
  }

  /** The attempt's effects on the gate, the metrics and the log, whenever it ends. */
  private settle(
    job: DeliveryJob,
    attempt: number,
    r: AttemptResult,
    started: number,
    quick: boolean,
  ): void {
    const { target, delivery } = job;
    const wasFailing = target.gate.failureCount > 0;
    target.gate.release({ ...r, quick });
    const app = metricApp(this.settings.apps, target.appId);
    webhookMetrics.requests.inc({ app, result: r.result });
    webhookMetrics.requestSeconds.observe({ app, result: r.result }, (this.now() - started) / 1000);
    const where = {
      app: target.appId,
      webhook: target.index,
      deliveryId: delivery.deliveryId,
      attempt,
    };
    if (r.ok) {
      webhookMetrics.deliveries.inc({ app, status: 'delivered' });
      webhookMetrics.outcomes.inc({ app }, delivery.outcomes.length);
      if (wasFailing) this.log.log({ msg: 'webhook answers again', ...where });
      return;
    }
    const pausedForMs = Math.max(0, target.gate.pausedUntilMs - this.now());
    this.log.warn({ msg: 'webhook attempt failed', ...where, error: r.error, pausedForMs });
  }

  /**
   * The delivery for the retry topic, due at `at` (plus a spread), but at most `maxParkMs` from now
   * and never after its max age.
   */
  private later(
    job: DeliveryJob,
    attempts: number,
    lastError: string | null,
    at: number,
  ): OutboundRecord {
    const { target, delivery } = job;
    const expires = Date.parse(delivery.queuedAt) + this.settings.maxAgeMs;
    const latest = this.now() + this.settings.maxParkMs;
    const due = Math.min(at + this.random() * SPREAD_MS, latest, expires);
    webhookMetrics.deliveries.inc({
      app: metricApp(this.settings.apps, target.appId),
      status: 'retried',
    });
    const value: WebhookDelivery = {
      ...delivery,
      attempts,
      lastError: lastError === null ? null : lastError.slice(0, MAX_LAST_ERROR_CHARS),
      notBefore: new Date(Math.round(due)).toISOString(),
    };
    return outbound(TOPICS.webhookRetry, value);
  }
}
