import { Counter, Gauge, Histogram } from 'prom-client';

/** One backlog reading per app: deliveries parked on the retry topic and the oldest one's age. */
export interface BacklogReading {
  app: string;
  deliveries: number;
  oldestSeconds: number;
}

interface Sources {
  backlog?: () => BacklogReading[];
  paused?: () => Array<{ app: string; webhook: string; paused: boolean }>;
}

const sources: Sources = {};

/** Where the backlog and paused-webhook gauges read from at scrape time (set once per process). */
export function reportWebhookState(s: Sources): void {
  Object.assign(sources, s);
}

/**
 * Webhook metrics (`push_webhook_*`). The `app` label is an app of the apps file with webhooks
 * (else `other`), `webhook` its index in the app's list (at most 10): the series are bounded.
 */
export const webhookMetrics = {
  deliveries: new Counter({
    name: 'push_webhook_deliveries_total',
    help: 'Webhook deliveries by what became of them: delivered (a 2xx), retried (written to push.webhook.retry.v1: failed, not answered within WEBHOOK_HANDOFF_MS, or the webhook paused or full), dead_letter (older than WEBHOOK_MAX_AGE_SECONDS, or the webhook removed), duplicate (already delivered by this instance)',
    labelNames: ['app', 'status'] as const,
  }),
  outcomes: new Counter({
    name: 'push_webhook_outcomes_total',
    help: 'Outcomes acknowledged by a webhook receiver (in delivered deliveries)',
    labelNames: ['app'] as const,
  }),
  requests: new Counter({
    name: 'push_webhook_requests_total',
    help: 'Webhook POST attempts by result: 2xx, 3xx, 4xx, 429, 5xx, timeout (timeoutMs), network',
    labelNames: ['app', 'result'] as const,
  }),
  requestSeconds: new Histogram({
    name: 'push_webhook_request_seconds',
    help: 'Time of one webhook POST, from sending to the answer (or the timeout)',
    labelNames: ['app', 'result'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  }),
  backlog: new Gauge({
    name: 'push_webhook_backlog_deliveries',
    help: 'Deliveries fetched from push.webhook.retry.v1 and parked until due, in the partitions this instance owns (read at scrape time)',
    labelNames: ['app'] as const,
    collect() {
      this.reset();
      for (const r of sources.backlog?.() ?? []) this.set({ app: r.app }, r.deliveries);
    },
  }),
  backlogOldest: new Gauge({
    name: 'push_webhook_backlog_oldest_seconds',
    help: 'Age of the oldest parked delivery per app (since it was queued; dead-lettered at WEBHOOK_MAX_AGE_SECONDS)',
    labelNames: ['app'] as const,
    collect() {
      this.reset();
      for (const r of sources.backlog?.() ?? []) this.set({ app: r.app }, r.oldestSeconds);
    },
  }),
  paused: new Gauge({
    name: 'push_webhook_paused',
    help: '1 while a webhook is paused after failures (backoff or Retry-After), else 0',
    labelNames: ['app', 'webhook'] as const,
    collect() {
      for (const p of sources.paused?.() ?? []) {
        this.set({ app: p.app, webhook: p.webhook }, p.paused ? 1 : 0);
      }
    },
  }),
};
