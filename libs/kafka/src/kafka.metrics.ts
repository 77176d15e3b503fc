import { Counter, Gauge, Histogram } from 'prom-client';

/** Metric names of the Kafka library, in one place. */
export const kafkaMetrics = {
  recordsConsumed: new Counter({
    name: 'push_kafka_records_consumed_total',
    help: 'Records consumed, by group, topic and result (ok, dead_letter)',
    labelNames: ['group', 'topic', 'result'] as const,
  }),
  batchSeconds: new Histogram({
    name: 'push_kafka_batch_seconds',
    help: 'Time to handle and commit one batch',
    labelNames: ['group', 'topic'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
  }),
  batchFailures: new Counter({
    name: 'push_kafka_batch_failures_total',
    help: 'Batches whose handling or commit failed and will be read again',
    labelNames: ['group', 'topic'] as const,
  }),
  partitionStalled: new Gauge({
    name: 'push_kafka_partition_stalled',
    help: '1 while a consumer has been failing on the same offset of the partition for longer than KAFKA_STALL_AFTER_SECONDS',
    labelNames: ['group', 'topic', 'partition'] as const,
  }),
  recordsTooLarge: new Counter({
    name: 'push_kafka_records_too_large_total',
    help: "Records refused before sending because they cannot fit the topic's max.message.bytes",
    labelNames: ['topic'] as const,
  }),
};
