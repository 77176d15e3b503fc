import { Counter, Gauge, Histogram } from 'prom-client';

/**
 * Increments of a counter summed per label set and applied by `flush`: one prom-client label
 * lookup (it hashes the labels on every call) per label set and batch instead of one per push.
 */
export class CounterTally<L extends string> {
  private readonly counts = new Map<string, { labels: Record<L, string>; n: number }>();

  constructor(private readonly counter: Counter<L>) {}

  /** `key` identifies the label set (the label values joined). */
  add(key: string, labels: Record<L, string>): void {
    const c = this.counts.get(key);
    if (c) c.n++;
    else this.counts.set(key, { labels, n: 1 });
  }

  flush(): void {
    for (const { labels, n } of this.counts.values()) this.counter.inc(labels, n);
    this.counts.clear();
  }
}

const inFlightSources = new Map<string, () => number>();

/**
 * Reports a provider's in-flight sends when `/metrics` is scraped (a callback rather than an
 * inc/dec on every send, which costs two label lookups per push on the hot path).
 */
export function reportInFlight(provider: string, read: () => number): void {
  inFlightSources.set(provider, read);
}

const retryBacklogSources = new Map<string, () => number>();

/** Reports a provider's parked retries when `/metrics` is scraped (see `BatchDispatcher`). */
export function reportRetryBacklog(provider: string, read: () => number): void {
  retryBacklogSources.set(provider, read);
}

/** The `app` label of a request's series: a configured app id, anything else `other`. */
export const OTHER_APP = 'other';

/**
 * Bounds the `app` label by the apps file: only ids `apps` knows label a series, every other value
 * (a request of an app removed from the file, or written by hand to a request topic) is `other`,
 * so no record can add series. Without `apps` every request is `other`.
 */
export function metricApp(
  apps: { get(appId: string): unknown } | undefined,
  appId: string,
): string {
  return apps?.get(appId) ? appId : OTHER_APP;
}

/**
 * Metric names shared by the dispatchers, in one place; every series carries `provider`
 * (`apns`, `fcm`) so one dashboard serves both.
 */
export const dispatchMetrics = {
  sends: new Counter({
    name: 'push_dispatch_sends_total',
    help: 'Provider sends by result status (delivered, invalid_token, rejected, retry, failed) and reason code, per app (configured app ids, else other)',
    labelNames: ['provider', 'app', 'status', 'reason'] as const,
  }),
  sendSeconds: new Histogram({
    name: 'push_dispatch_send_seconds',
    help: 'Time of one provider send (request to answer)',
    labelNames: ['provider', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  }),
  outcomes: new Counter({
    name: 'push_dispatch_outcomes_total',
    help: 'Final outcomes produced, by status, per app (configured app ids, else other)',
    labelNames: ['provider', 'app', 'status'] as const,
  }),
  outcomeLatencySeconds: new Histogram({
    name: 'push_dispatch_outcome_latency_seconds',
    help: "End-to-end latency as far as the request carries it: from the request's createdAt (routing's decision; the message's sentAt is not in the request) to its final outcome, retries included",
    labelNames: ['provider', 'app', 'status'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600, 3600],
  }),
  endToEndSeconds: new Histogram({
    name: 'push_end_to_end_latency_seconds',
    help: "From the message's sentAt to the provider's final answer (delivered, invalid token, rejected), retries included; requests written before sentAt was carried are not counted",
    labelNames: ['provider', 'app', 'status'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120, 600, 3600],
  }),
  inFlight: new Gauge({
    name: 'push_dispatch_in_flight',
    help: 'Sends waiting for the provider (read at scrape time, see reportInFlight)',
    labelNames: ['provider'] as const,
    collect() {
      for (const [provider, read] of inFlightSources) this.set({ provider }, read());
    },
  }),
  retriesScheduled: new Counter({
    name: 'push_dispatch_retries_scheduled_total',
    help: 'Requests written to the retry topic, by reason code',
    labelNames: ['provider', 'reason'] as const,
  }),
  retryBacklog: new Gauge({
    name: 'push_dispatch_retry_backlog',
    help: 'Retry records fetched but not yet due (in parked partitions of the retry topic this instance owns), read at scrape time',
    labelNames: ['provider'] as const,
    collect() {
      for (const [provider, read] of retryBacklogSources) this.set({ provider }, read());
    },
  }),
  replayed: new Counter({
    name: 'push_dispatch_replayed_total',
    help: 'Redelivered jobs answered from the recent-jobs memory instead of being sent again',
    labelNames: ['provider', 'kind'] as const,
  }),
  reconnects: new Counter({
    name: 'push_dispatch_reconnects_total',
    help: 'Provider connections replaced: APNs pool connections (dead, stuck, GOAWAY, errors); FCM sendEach sessions destroyed at their deadline (send_timeout) or broken by a network error (transport)',
    labelNames: ['provider', 'app', 'environment', 'cause'] as const,
  }),
  authFailures: new Counter({
    name: 'push_dispatch_auth_failures_total',
    help: 'Provider answers saying our credentials are wrong (APNs 403 other than a first ExpiredProviderToken; FCM THIRD_PARTY_AUTH_ERROR / 401, SENDER_ID_MISMATCH, a failed OAuth token request): alarm on any increase',
    labelNames: ['provider', 'app', 'reason'] as const,
  }),
};
