import { DeadLetterSchema } from '@app/contracts';
import { TOPICS } from '@app/contracts';
import {
  ConsumerRunner,
  EventProducer,
  outbound,
  SchemaViolationException,
  type ConsumedRecord,
} from '@app/kafka';
import {
  createTestTopic,
  readFor,
  testKafka,
  TopicRecorder,
  uniqueId,
  waitFor,
} from '@app/testing';
import type { Admin, Kafka } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import { z } from 'zod';

const Ping = z.object({ userId: z.string(), n: z.number().int() });
type Ping = z.infer<typeof Ping>;

describe('Kafka library against the real broker', () => {
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

  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.stop()));
  });

  afterAll(async () => {
    await producer.disconnect();
    await admin.disconnect();
  });

  const pingTopic = () => createTestTopic(admin, Ping, { key: (v) => v.userId, partitions: 2 });

  it('refuses to produce a value that fails its schema', async () => {
    const topic = await pingTopic();
    await expect(producer.send([outbound(topic, { userId: 'u', n: 1.5 })])).rejects.toBeInstanceOf(
      SchemaViolationException,
    );
    expect(await readFor(kafka, topic.name, 1500)).toHaveLength(0);
  });

  it('produces and consumes in a group, with headers and committed offsets', async () => {
    const topic = await pingTopic();
    const groupId = uniqueId('group');
    const seen: ConsumedRecord<Ping>[] = [];
    const runner = new ConsumerRunner(kafka, producer, {
      groupId,
      subscriptions: [
        { topic, handle: async (rs: ConsumedRecord<Ping>[]) => void seen.push(...rs) },
      ],
    });
    runners.push(runner);
    await runner.start();
    await producer.send([1, 2, 3, 4].map((n) => outbound(topic, { userId: `u${n % 2}`, n })));
    await waitFor(() => seen.length >= 4, { what: '4 records' });
    expect(seen.map((r) => r.value.n).sort()).toEqual([1, 2, 3, 4]);
    expect(seen[0].headers['event-type']).toBe(topic.eventType);
    expect(seen[0].headers['content-type']).toBe('application/json');
    expect(seen[0].headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const offsets = await waitFor(
      async () => {
        const [t] = await admin.fetchOffsets({ groupId, topics: [topic.name] });
        const sum = t.partitions.reduce((a, p) => a + Math.max(0, Number(p.offset)), 0);
        return sum === 4 ? t : undefined;
      },
      { what: 'committed offsets' },
    );
    expect(offsets.partitions).toHaveLength(2);
  });

  it('starts a new group at the end with newGroupStart latest, at the beginning by default', async () => {
    const topic = await pingTopic();
    await producer.send([1, 2].map((n) => outbound(topic, { userId: `u${n}`, n })));
    const run = (newGroupStart?: 'latest') => {
      const seen: number[] = [];
      const runner = new ConsumerRunner(kafka, producer, {
        groupId: uniqueId('group'),
        newGroupStart,
        subscriptions: [
          {
            topic,
            handle: async (rs: ConsumedRecord<Ping>[]) =>
              void seen.push(...rs.map((r) => r.value.n)),
          },
        ],
      });
      runners.push(runner);
      return { runner, seen };
    };
    const latest = run('latest');
    const earliest = run();
    // In the background, as the services start: readiness reflects it once running.
    latest.runner.startInBackground();
    earliest.runner.startInBackground();
    await waitFor(() => latest.runner.isHealthy() && earliest.runner.isHealthy(), {
      what: 'both running',
    });
    await producer.send([outbound(topic, { userId: 'u3', n: 3 })]);
    await waitFor(() => latest.seen.length >= 1 && earliest.seen.length >= 3, {
      what: 'records',
    });
    expect(latest.seen).toEqual([3]);
    expect(earliest.seen.sort()).toEqual([1, 2, 3]);
  });

  it('dead-letters a poison value with the reason and the original bytes, and processes the next', async () => {
    const topic = await pingTopic();
    const seen: number[] = [];
    const runner = new ConsumerRunner(kafka, producer, {
      groupId: uniqueId('group'),
      subscriptions: [
        {
          topic,
          handle: async (rs: ConsumedRecord<Ping>[]) => {
            for (const r of rs) {
              if (r.value.n === 13) throw new Error('thirteen is unlucky');
              seen.push(r.value.n);
            }
          },
        },
      ],
    });
    runners.push(runner);
    // Recorded from the end of the dead-letter topic (a long-lived broker's topic can be too
    // large to read from the beginning within the test's time).
    const rec = await TopicRecorder.start(kafka, [TOPICS.deadLetter.name]);
    const raw = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await raw.connect();
    const marker = uniqueId('poison');
    await raw.send({
      topic: topic.name,
      messages: [
        { key: 'k', value: `{"not json ${marker}` },
        { key: 'k', value: JSON.stringify({ userId: 'k', n: 'one' }) },
        { key: 'k', value: Buffer.from([0xff, 0xfe, 0x00]) },
        { key: 'k', value: JSON.stringify({ userId: 'k', n: 13 }) },
        { key: 'k', value: JSON.stringify({ userId: 'k', n: 2 }) },
      ],
    });
    await raw.disconnect();
    await runner.start();
    await waitFor(() => seen.includes(2), { what: 'the good record after the poison ones' });
    expect(seen).toEqual([2]);

    const letters = (
      await rec
        .collect(
          TOPICS.deadLetter.name,
          (v) => DeadLetterSchema.safeParse(v).data?.source.topic === topic.name,
          {
            count: 4,
            timeoutMs: 30000,
            settleMs: 1000,
          },
        )
        .finally(() => rec.stop())
    ).map((v) => DeadLetterSchema.parse(v));
    expect(letters.map((l) => l.error.code)).toEqual([
      'INVALID_JSON',
      'SCHEMA_VIOLATION',
      'INVALID_UTF8',
      'HANDLER_ERROR',
    ]);
    expect(letters[0].value).toContain(marker);
    expect(letters[1].error.message).toContain('n:');
    expect(letters[2].valueEncoding).toBe('base64');
    expect(Buffer.from(letters[2].value!, 'base64')).toEqual(Buffer.from([0xff, 0xfe, 0x00]));
    expect(letters[3].error.message).toBe('thirteen is unlucky');
    expect(letters.map((l) => l.source.offset)).toEqual(['0', '1', '2', '3']);
  });

  it('an aborted transaction leaves nothing visible to read_committed, and its offsets uncommitted', async () => {
    const input = await pingTopic();
    const output = await pingTopic();
    const groupId = uniqueId('group');
    const tx = kafka.producer({
      transactionalId: uniqueId('tx'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await tx.connect();
    const t = await tx.transaction();
    await t.send({
      topic: output.name,
      messages: [{ key: 'a', value: JSON.stringify({ userId: 'a', n: 1 }) }],
    });
    await t.sendOffsets({
      consumerGroupId: groupId,
      topics: [{ topic: input.name, partitions: [{ partition: 0, offset: '5' }] }],
    });
    await t.abort();
    await tx.disconnect();
    expect(await readFor(kafka, output.name, 2000)).toHaveLength(0);
    expect(await readFor(kafka, output.name, 2000, true)).toHaveLength(1);
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [input.name] });
    expect(offsets.partitions.every((p) => p.offset === '-1')).toBe(true);
  });

  it('a transactional runner commits output and offsets together, exactly once even when fenced mid-batch', async () => {
    const input = await pingTopic();
    const output = await pingTopic();
    const groupId = uniqueId('group');
    const idPrefix = uniqueId('txr');
    let fenced = false;
    let calls = 0;
    const committed: number[] = [];
    const runner = new ConsumerRunner(kafka, producer, {
      groupId,
      transactional: { idPrefix },
      subscriptions: [
        {
          topic: input,
          handle: async (rs: ConsumedRecord<Ping>[], { partition }) => {
            calls++;
            if (!fenced && rs.some((r) => r.value.n === 2)) {
              // A second producer with the same transactional id: the runner's own is now a zombie
              // and its transaction must fail, be aborted and the batch read again.
              fenced = true;
              const zombieKiller = kafka.producer({
                transactionalId: `${idPrefix}-${input.name}-${partition}`,
                idempotent: true,
                maxInFlightRequests: 1,
              });
              await zombieKiller.connect();
              // kafkajs registers the transactional id (bumping the epoch) on the first transaction.
              const t = await zombieKiller.transaction();
              await t.abort();
              await zombieKiller.disconnect();
            }
            return {
              records: rs.map((r) =>
                outbound(output, { userId: r.value.userId, n: r.value.n * 10 }),
              ),
              onCommit: () => committed.push(...rs.map((r) => r.value.n)),
            };
          },
        },
      ],
    });
    runners.push(runner);
    await producer.send([outbound(input, { userId: 'x', n: 1 })]);
    await runner.start();
    await waitFor(() => committed.includes(1), { what: 'first batch committed' });
    await producer.send([outbound(input, { userId: 'x', n: 2 })]);
    await waitFor(() => committed.includes(2), {
      what: 'second batch committed after the fencing',
      timeoutMs: 60000,
    });

    const visible = (await readFor<Ping>(kafka, output.name, 3000)).map((m) => m.value.n);
    expect(visible.sort()).toEqual([10, 20]);
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(committed.sort()).toEqual([1, 2]);
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [input.name] });
    expect(offsets.partitions.reduce((a, p) => a + Math.max(0, Number(p.offset)), 0)).toBe(2);
  });
});
