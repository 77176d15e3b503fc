import { Counter, Gauge } from 'prom-client';

/** The registry's metric names, in one place. */
export const registryMetrics = {
  registrations: new Counter({
    name: 'push_registry_registrations_total',
    help: 'Devices registered, by whether the token moved from another user or device',
    labelNames: ['moved'] as const,
  }),
  evictions: new Counter({
    name: 'push_registry_device_evictions_total',
    help: 'Devices evicted because a user went over REGISTRY_MAX_DEVICES_PER_USER',
  }),
  invalidations: new Counter({
    name: 'push_registry_invalidations_total',
    help: 'token.invalidated.v1 records, by reason and result (deleted, environment_updated, stale, not_found, token_changed, held_elsewhere, refused)',
    labelNames: ['reason', 'result'] as const,
  }),
  outboxPublished: new Counter({
    name: 'push_registry_outbox_published_total',
    help: 'Snapshots the relay published to token.user-devices.v1',
  }),
  outboxSuperseded: new Counter({
    name: 'push_registry_outbox_superseded_total',
    help: 'Outbox rows not published because a newer snapshot of the same user was published instead',
  }),
  outboxFailures: new Counter({
    name: 'push_registry_outbox_failures_total',
    help: 'Relay rounds that failed (Kafka or PostgreSQL unavailable); the rows wait',
  }),
  outboxRejected: new Counter({
    name: 'push_registry_outbox_rejected_total',
    help: 'Outbox rows marked sent without publishing: the snapshot fails its schema or cannot fit the topic (error kept on the row)',
  }),
  outboxPending: new Gauge({
    name: 'push_registry_outbox_pending',
    help: 'Outbox rows not yet published, as the relay last counted them',
  }),
};
