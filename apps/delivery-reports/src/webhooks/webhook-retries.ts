import { Logger } from '@nestjs/common';
import type { WebhookDelivery } from '@app/contracts';
import { metricApp } from '@app/dispatch';
import {
  deadLetterForRecord,
  type ConsumedRecord,
  type DeferredRest,
  type HandlerResult,
  type OutboundRecord,
} from '@app/kafka';
import type { DeliveryJob } from './webhook-batcher';
import type { WebhookDeliverer } from './webhook-deliverer';
import type { WebhookTargets } from './webhook-targets';
import { webhookMetrics, type BacklogReading } from './webhooks.metrics';

/** The header the dead-letter replay tool adds: a replayed delivery's age starts again. */
export const REPLAY_HEADER = 'x-dead-letter-replay';
const FORGET_AFTER_MS = 60_000;
/** Deliveries due within this many ms are sent now rather than parked for so short a wait. */
const SLACK_MS = 20;

/**
 * Splits a retry batch at the first delivery not due yet: those before it are handled now; from
 * it on the partition is parked until it is due (`HandlerResult.deferFrom`). Order is kept: a
 * delivery due sooner behind it waits for it, at most one backoff step (WEBHOOK_RETRY_MAX_MS).
 */
export function splitDue(
  records: ConsumedRecord<WebhookDelivery>[],
  now: number,
): { due: ConsumedRecord<WebhookDelivery>[]; deferFrom?: DeferredRest } {
  for (let i = 0; i < records.length; i++) {
    const at = Date.parse(records[i].value?.notBefore ?? '');
    if (at > now + SLACK_MS) {
      return { due: records.slice(0, i), deferFrom: { offset: records[i].offset, until: at } };
    }
  }
  return { due: records };
}

/** The delivery a record holds (the retry topic is `delete`: no tombstones). */
function deliveryOf(rec: { value: WebhookDelivery | null }): WebhookDelivery {
  if (rec.value === null) throw new Error('a push.webhook.retry.v1 record without a value');
  return rec.value;
}

interface Parked {
  until: number;
  byApp: Map<string, { deliveries: number; oldestQueuedAt: number }>;
}

/**
 * Handles `push.webhook.retry.v1`: a due delivery is dead-lettered when it is older than the max
 * age or its webhook is no longer configured, dropped when this instance saw it acknowledged
 * after handing it over, else POSTed again (and, failing, written back with its next due time).
 */
export class WebhookRetries {
  private readonly parked = new Map<number, Parked>();
  private readonly log = new Logger('WebhookRetries');

  constructor(
    private readonly targets: WebhookTargets,
    private readonly deliverer: WebhookDeliverer,
    private readonly settings: {
      maxAgeMs: number;
      /** WEBHOOK_GROUP_ID: deliveries queued under another group are another deployment's. */
      group: string;
      apps?: { get(appId: string): unknown };
    },
    private readonly now: () => number = Date.now,
  ) {}

  async handle(
    records: ConsumedRecord<WebhookDelivery>[],
    partition: number,
  ): Promise<HandlerResult> {
    const now = this.now();
    // Another deployment's deliveries (another group id) are skipped, never waited for.
    const own = records.filter((r) => r.value?.group === this.settings.group);
    const { due, deferFrom } = splitDue(own, now);
    this.remember(partition, deferFrom ? own.slice(due.length) : [], deferFrom?.until);
    const out: OutboundRecord[] = [];
    const jobs: DeliveryJob[] = [];
    for (const rec of due) {
      const job = this.triage(rec, now, out);
      if (job) jobs.push(job);
    }
    out.push(...(await this.deliverer.deliver(jobs)));
    return { records: out, deferFrom };
  }

  /** The job for a due delivery, or undefined when it is dead-lettered or dropped (into `out`). */
  private triage(
    rec: ConsumedRecord<WebhookDelivery>,
    now: number,
    out: OutboundRecord[],
  ): DeliveryJob | undefined {
    const delivery = deliveryOf(rec);
    const app = metricApp(this.settings.apps, delivery.appId);
    if (this.deliverer.lateAcks.has(delivery.deliveryId)) {
      webhookMetrics.deliveries.inc({ app, status: 'duplicate' });
      return undefined;
    }
    // A delivery replayed from a dead letter is queued anew.
    const queuedAt = rec.headers[REPLAY_HEADER]
      ? new Date(Number(rec.timestamp)).toISOString()
      : delivery.queuedAt;
    const target = this.targets.forDelivery(delivery);
    let reason: { code: string; message: string } | undefined;
    if (!target) {
      reason = {
        code: 'WEBHOOK_NOT_CONFIGURED',
        message: `app ${delivery.appId} has no webhook ${delivery.webhook.urlHash} any more`,
      };
    } else if (now >= Date.parse(queuedAt) + this.settings.maxAgeMs) {
      const last = delivery.lastError ? `; last: ${delivery.lastError}` : '';
      reason = {
        code: 'WEBHOOK_MAX_AGE',
        message: `not acknowledged within WEBHOOK_MAX_AGE_SECONDS=${this.settings.maxAgeMs / 1000} (${delivery.attempts} attempts${last})`,
      };
    }
    if (reason || !target) {
      webhookMetrics.deliveries.inc({ app, status: 'dead_letter' });
      this.log.warn({
        msg: 'webhook delivery dead-lettered',
        app: delivery.appId,
        deliveryId: delivery.deliveryId,
        code: reason?.code,
        attempts: delivery.attempts,
      });
      out.push(deadLetterForRecord(rec, reason!));
      return undefined;
    }
    return { target, delivery: { ...delivery, queuedAt } };
  }

  private remember(
    partition: number,
    rest: ConsumedRecord<WebhookDelivery>[],
    until?: number,
  ): void {
    if (until === undefined) {
      this.parked.delete(partition);
      return;
    }
    const byApp = new Map<string, { deliveries: number; oldestQueuedAt: number }>();
    for (const rec of rest) {
      const d = deliveryOf(rec);
      const app = metricApp(this.settings.apps, d.appId);
      const queued = Date.parse(d.queuedAt);
      const a = byApp.get(app) ?? { deliveries: 0, oldestQueuedAt: queued };
      a.deliveries++;
      a.oldestQueuedAt = Math.min(a.oldestQueuedAt, queued);
      byApp.set(app, a);
    }
    this.parked.set(partition, { until, byApp });
  }

  /**
   * Deliveries parked per app (fetched, not yet due) and the oldest one's age. A partition not
   * read again within a minute of its due time moved to another instance: no longer counted.
   */
  backlog(): BacklogReading[] {
    const now = this.now();
    const sum = new Map<string, { deliveries: number; oldestQueuedAt: number }>();
    for (const [p, parked] of this.parked) {
      if (parked.until + FORGET_AFTER_MS < now) {
        this.parked.delete(p);
        continue;
      }
      for (const [app, a] of parked.byApp) {
        const s = sum.get(app) ?? { deliveries: 0, oldestQueuedAt: a.oldestQueuedAt };
        s.deliveries += a.deliveries;
        s.oldestQueuedAt = Math.min(s.oldestQueuedAt, a.oldestQueuedAt);
        sum.set(app, s);
      }
    }
    return [...sum].map(([app, s]) => ({
      app,
      deliveries: s.deliveries,
      oldestSeconds: Math.max(0, (now - s.oldestQueuedAt) / 1000),
    }));
  }
}
