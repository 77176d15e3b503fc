import { Counter, Gauge, Histogram } from 'prom-client';

const inFlightSources = new Map<string, () => number>();

/**
 * Reports a provider's in-flight sends when `/metrics` is scraped (a callback rather than an
 * inc/dec on every send, which costs two label lookups per push on the hot path).
 */
export function reportInFlight(provider: string, read: () => number): void {
  inFlightSources.set(provider, read);
}

/**
 * Metric names shared by the dispatchers, in one place; every series carries `provider`
 * (`apns`, `fcm`) so one dashboard serves both.
 */
export const dispatchMetrics = {
  sends: new Counter({
    name: 'push_dispatch_sends_total',
    help: 'Provider sends by result status (delivered, invalid_token, rejected, retry, failed) and reason code',
    labelNames: ['provider', 'status', 'reason'] as const,
  }),
  sendSeconds: new Histogram({
    name: 'push_dispatch_send_seconds',
    help: 'Time of one provider send (request to answer)',
    labelNames: ['provider', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  }),
  outcomes: new Counter({
    name: 'push_dispatch_outcomes_total',
    help: 'Final outcomes produced, by status',
    labelNames: ['provider', 'status'] as const,
  }),
  outcomeLatencySeconds: new Histogram({
    name: 'push_dispatch_outcome_latency_seconds',
    help: 'From the request createdAt to its final outcome, retries included',
    labelNames: ['provider', 'status'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600, 3600],
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
    help: 'Retry records fetched but not yet due (in parked partitions of the retry topic)',
    labelNames: ['provider'] as const,
  }),
  replayed: new Counter({
    name: 'push_dispatch_replayed_total',
    help: 'Redelivered jobs answered from the recent-jobs memory instead of being sent again',
    labelNames: ['provider', 'kind'] as const,
  }),
  reconnects: new Counter({
    name: 'push_dispatch_reconnects_total',
    help: 'Provider connections replaced (dead, stuck, GOAWAY, errors)',
    labelNames: ['provider', 'app', 'environment', 'cause'] as const,
  }),
  authFailures: new Counter({
    name: 'push_dispatch_auth_failures_total',
    help: 'Provider answers saying our credentials are wrong (alarm on any increase)',
    labelNames: ['provider', 'app', 'reason'] as const,
  }),
};
