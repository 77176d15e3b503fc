import type { Consumer } from 'kafkajs';
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
  consumerLag: new Gauge({
    name: 'push_kafka_consumer_lag',
    help: "Records between the group's position and the partition's end (high watermark), as of the last batch this member fetched; only the member that owns the partition reports it",
    labelNames: ['group', 'topic', 'partition'] as const,
  }),
  deadLetters: new Counter({
    name: 'push_kafka_dead_letters_total',
    help: 'Dead letters built for push.dead-letter.v1, by source topic and code (a batch handled again after a failed commit builds its letters again)',
    labelNames: ['topic', 'code'] as const,
  }),
};

/** Dead letter codes are short identifiers; anything else would make a new series per message. */
const DEAD_LETTER_CODE = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Counts one dead letter (called where letters are built, `deadLetterFor`). */
export function countDeadLetter(topic: string, code: string): void {
  kafkaMetrics.deadLetters.inc({ topic, code: DEAD_LETTER_CODE.test(code) ? code : 'other' });
}

/** Which tracker set a lag series last: a partition moving between two consumers of one process. */
const lagOwners = new Map<string, object>();

/**
 * Keeps `push_kafka_consumer_lag` for one consumer from kafkajs's batch events:
 * - `START_BATCH_PROCESS`: the batch is not handled yet, so the lag is `highWatermark − firstOffset`
 *   (a batch that keeps failing is fetched again, and the lag grows with the partition's end);
 * - `END_BATCH_PROCESS`: the batch is handled, the lag is `highWatermark − (lastOffset + 1)`,
 *   except when the handler paused the partition (a retry topic's records not yet due, an input
 *   partition held until its state is restored): those records still wait, the start value stays;
 * - `GROUP_JOIN`: series of partitions no longer assigned to this consumer are removed.
 * Returns `clear`, which removes this consumer's series (on shutdown).
 */
export function trackConsumerLag(consumer: Consumer, group: string): { clear(): void } {
  const owner = {};
  const mine = new Set<string>();
  const labels = (topic: string, partition: number) => ({
    group,
    topic,
    partition: String(partition),
  });
  const set = (topic: string, partition: number, lag: bigint) => {
    const id = `${topic}|${partition}`;
    mine.add(id);
    lagOwners.set(`${group}|${id}`, owner);
    kafkaMetrics.consumerLag.set(labels(topic, partition), Number(lag < 0n ? 0n : lag));
  };
  const remove = (id: string) => {
    mine.delete(id);
    const key = `${group}|${id}`;
    if (lagOwners.get(key) !== owner) return; // another consumer of the group reports it now
    lagOwners.delete(key);
    const [topic, p] = id.split('|');
    kafkaMetrics.consumerLag.remove(labels(topic, Number(p)));
  };
  const isPaused = (topic: string, partition: number) =>
    consumer.paused().some((tp) => tp.topic === topic && tp.partitions.includes(partition));

  consumer.on(consumer.events.START_BATCH_PROCESS, ({ payload: b }) => {
    if (b.firstOffset === null || b.firstOffset === undefined) return;
    set(b.topic, b.partition, BigInt(b.highWatermark) - BigInt(b.firstOffset));
  });
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload: b }) => {
    if (isPaused(b.topic, b.partition)) return;
    set(b.topic, b.partition, BigInt(b.highWatermark) - BigInt(b.lastOffset) - 1n);
  });
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    const assigned = new Set(
      Object.entries(payload.memberAssignment).flatMap(([topic, ps]) =>
        ps.map((p) => `${topic}|${p}`),
      ),
    );
    for (const id of [...mine]) if (!assigned.has(id)) remove(id);
  });
  return { clear: () => [...mine].forEach(remove) };
}
