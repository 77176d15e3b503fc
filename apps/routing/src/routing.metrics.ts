import { Counter, Histogram } from 'prom-client';

/** Metric names of the routing service, in one place. */
export const routingMetrics = {
  intentsWritten: new Counter({
    name: 'push_routing_intents_written_total',
    help: 'push.intent.v1 records written by the fan-out',
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
};
