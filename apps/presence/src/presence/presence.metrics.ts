import { Counter, Gauge } from 'prom-client';

/** Metric names of the presence service, in one place. */
export const presenceMetrics = {
  events: new Counter({
    name: 'push_presence_events_total',
    help: 'Device events applied to the state machine',
  }),
  rejected: new Counter({
    name: 'push_presence_events_rejected_total',
    help: 'Device events dead-lettered by presence, by reason',
    labelNames: ['code'] as const,
  }),
  snapshots: new Counter({
    name: 'push_presence_snapshots_total',
    help: 'presence.user-state.v1 records written (tombstones included)',
  }),
  sweepSnapshots: new Counter({
    name: 'push_presence_sweep_snapshots_total',
    help: 'Snapshots written because a timer ran out (heartbeat timeout, offline period)',
  }),
  evictions: new Counter({
    name: 'push_presence_device_evictions_total',
    help: 'Devices dropped because a user went over PRESENCE_MAX_DEVICES_PER_USER',
  }),
  users: new Gauge({
    name: 'push_presence_users',
    help: 'Users held in memory for the partitions this instance owns',
  }),
};
