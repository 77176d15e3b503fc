import { Counter, Gauge, Histogram } from 'prom-client';

/** The delivery reports' metric names, in one place (`push_reports_*`). */
export const reportsMetrics = {
  outcomes: new Counter({
    name: 'push_reports_outcomes_total',
    help: 'push.outcome.v1 records handled by the store, by result (stored, duplicate: its jobId was stored already, expired: past retention, refused: dead-lettered)',
    labelNames: ['result'] as const,
  }),
  storeSeconds: new Histogram({
    name: 'push_reports_store_seconds',
    help: 'Time of one store statement (outcomes inserted and rollups added, one transaction)',
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  }),
  storeDelay: new Histogram({
    name: 'push_reports_store_delay_seconds',
    help: "From an outcome's `at` to its row being stored (how far the reports are behind)",
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800, 3600],
  }),
  partitions: new Gauge({
    name: 'push_reports_partitions',
    help: 'Daily partitions of each table, as the maintenance last counted them',
    labelNames: ['table'] as const,
  }),
  partitionsEnd: new Gauge({
    name: 'push_reports_partitions_end_timestamp_seconds',
    help: "End of each table's newest daily partition (epoch seconds: the UTC midnight after its day), as this instance last saw the partitions; rows of a later day have no partition yet",
    labelNames: ['table'] as const,
  }),
  partitionsCreated: new Counter({
    name: 'push_reports_partitions_created_total',
    help: 'Daily partitions created (ahead by the maintenance, or by the store for a batch)',
    labelNames: ['table'] as const,
  }),
  partitionsDropped: new Counter({
    name: 'push_reports_partitions_dropped_total',
    help: 'Daily partitions dropped past retention',
    labelNames: ['table'] as const,
  }),
  maintenanceFailures: new Counter({
    name: 'push_reports_maintenance_failures_total',
    help: 'Partition maintenance rounds that failed (retried at the next round)',
  }),
};
