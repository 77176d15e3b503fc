import { Counter, Histogram } from 'prom-client';

/** Metric names of the routing service, in one place. */
export const routingMetrics = {
  intentsWritten: new Counter({
    name: 'push_routing_intents_written_total',
    help: 'push.intent.v1 records written by the fan-out',
  }),
  fanoutSkippedRecalled: new Counter({
    name: 'push_routing_fanout_skipped_recalled_total',
    help: 'Messages the fan-out did not fan out because their recall was read first',
  }),
  fanoutRecipients: new Histogram({
    name: 'push_routing_fanout_recipients',
    help: 'Recipients per fanned-out message',
    buckets: [1, 2, 10, 100, 1000, 10000, 100000],
  }),
  decisions: new Counter({
    name: 'push_routing_decisions_total',
    help: 'Per-device decisions of the decide stage, by result (apns, fcm, suppressed, rejected, expired, duplicate)',
    labelNames: ['result'] as const,
  }),
  outcomes: new Counter({
    name: 'push_routing_outcomes_total',
    help: 'Outcomes the decide stage writes itself (no provider involved), by app, status (suppressed, rejected, expired) and code (for suppressed: the rule, e.g. online, dnd, push_disabled)',
    labelNames: ['app', 'status', 'code'] as const,
  }),
  recalls: new Counter({
    name: 'push_routing_recalls_total',
    help: 'Recall intents decided, by result: pushed (a replacement or silent push to at least one device) or nothing (the user was not pushed the message, or it was forgotten)',
    labelNames: ['result'] as const,
  }),
  readSyncs: new Counter({
    name: 'push_routing_read_syncs_total',
    help: 'Conversation reads decided, by result: pushed (read-sync pushes sent), owed (inside the rate limit: badge lowered, the sync goes out with a later read of the user), quiet (nothing remembered of the conversation, or no other device)',
    labelNames: ['result'] as const,
  }),
  decideDelaySeconds: new Histogram({
    name: 'push_routing_decide_delay_seconds',
    help: "From the message's sentAt (the sender's clock) to its decision by the decide stage, one per intent (message and recipient): the pipeline's lag before the provider requests are created",
    labelNames: ['app'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600, 3600],
  }),
};

/** The `app` label: a configured app id, anything else `other` (no record can add series). */
export const metricApp = (apps: { get(appId: string): unknown }, appId: string): string =>
  apps.get(appId) ? appId : 'other';
