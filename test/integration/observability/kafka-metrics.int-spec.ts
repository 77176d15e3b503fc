import {
  ConsumerRunner,
  EventProducer,
  kafkaMetrics,
  outbound,
  type ConsumedRecord,
} from '@app/kafka';
import { createTestTopic, testKafka, uniqueId, waitFor } from '@app/testing';
import type { Admin, Kafka } from 'kafkajs';
import { z } from 'zod';

const Ping = z.object({ userId: z.string(), n: z.number().int() });
type Ping = z.infer<typeof Ping>;

/**
 * `push_kafka_consumer_lag` and `push_kafka_dead_letters_total` against the real broker: the lag
 * counts a batch still being handled, drops to 0 once it is committed, and leaves with the
 * consumer; every dead letter the runner writes is counted by source topic and code.
 */
describe('Kafka metrics against the real broker', () => {
  let kafka: Kafka;
  let admin: Admin;
  let producer: EventProducer;
  const runners: ConsumerRunner[] = [];

  beforeAll(async () => {
    kafka = testKafka();
    admin = kafka.admin();
    await admin.connect();
    producer = new EventProducer(kafka);
    await producer.connect();
  });

  afterAll(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    await producer.disconnect();
    await admin.disconnect();
  });

  const gauge = async (labels: Record<string, string>) =>
    (await kafkaMetrics.consumerLag.get()).values.find((v) =>
      Object.entries(labels).every(([k, x]) => v.labels[k as 'group'] === x),
    )?.value;
  const letters = async (topic: string, code: string) =>
    (await kafkaMetrics.deadLetters.get()).values.find(
      (v) => v.labels.topic === topic && v.labels.code === code,
    )?.value ?? 0;

  it('reports the lag of a batch in handling, 0 once committed, nothing after stop', async () => {
    const topic = await createTestTopic(admin, Ping, { key: (v) => v.userId, partitions: 1 });
    const groupId = uniqueId('lag');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const seen: number[] = [];
    const runner = new ConsumerRunner(kafka, producer, {
      groupId,
      maxWaitTimeInMs: 200,
      subscriptions: [
        {
          topic,
          handle: async (rs: ConsumedRecord<Ping>[]) => {
            await gate;
            seen.push(...rs.map((r) => r.value.n));
          },
        },
      ],
    });
    runners.push(runner);
    await producer.send([1, 2, 3, 4, 5].map((n) => outbound(topic, { userId: 'u', n })));
    await runner.start();
    const labels = { group: groupId, topic: topic.name, partition: '0' };
    // The batch is fetched and held by the handler: all five records are behind.
    await waitFor(async () => (await gauge(labels)) === 5, { what: 'lag 5 while handling' });
    release();
    await waitFor(() => seen.length === 5, { what: 'the five records handled' });
    await waitFor(async () => (await gauge(labels)) === 0, { what: 'lag 0 after the commit' });
    await producer.send([outbound(topic, { userId: 'u', n: 6 })]);
    await waitFor(() => seen.length === 6, { what: 'a sixth record' });
    await waitFor(async () => (await gauge(labels)) === 0, { what: 'lag 0 again' });
    await runner.stop();
    expect(await gauge(labels)).toBeUndefined();
  });

  it('counts each dead letter by source topic and code', async () => {
    const topic = await createTestTopic(admin, Ping, { key: (v) => v.userId, partitions: 1 });
    const runner = new ConsumerRunner(kafka, producer, {
      groupId: uniqueId('letters'),
      maxWaitTimeInMs: 200,
      subscriptions: [{ topic, handle: async () => undefined }],
    });
    runners.push(runner);
    const raw = kafka.producer();
    await raw.connect();
    await raw.send({
      topic: topic.name,
      messages: [
        { key: 'u', value: 'not json' },
        { key: 'u', value: '{"userId":"u"}' },
        { key: 'u', value: '{"userId":"u","n":1}' },
        { key: 'u', value: '{also not json' },
      ],
    });
    await raw.disconnect();
    await runner.start();
    await waitFor(async () => (await letters(topic.name, 'INVALID_JSON')) === 2, {
      what: 'two INVALID_JSON dead letters counted',
    });
    expect(await letters(topic.name, 'SCHEMA_VIOLATION')).toBe(1);
  });
});
