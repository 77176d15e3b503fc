import { commitGroupOffsets, setGroupOffsetsAtEnd, startNewGroupAtEnd } from '@app/kafka';
import { createTestTopic, testKafka, uniqueId, waitFor } from '@app/testing';
import type { Admin, Consumer, Kafka, Producer } from 'kafkajs';
import { z } from 'zod';

const Ping = z.object({ userId: z.string() });

/** Where a group starts: one join for all its topics, and never while the group has members. */
describe('consumer group offsets', () => {
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    kafka = testKafka('group-offsets-it');
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer();
    await producer.connect();
  });

  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.disconnect()));
  });

  afterAll(async () => {
    await producer.disconnect();
    await admin.disconnect();
  });

  const topicWith = async (records: number): Promise<string> => {
    const t = await createTestTopic(admin, Ping, { key: (v) => v.userId, partitions: 3 });
    if (records > 0) {
      await producer.send({
        topic: t.name,
        messages: Array.from({ length: records }, (_, i) => ({ key: `u${i}`, value: `old${i}` })),
      });
    }
    return t.name;
  };

  const committed = async (groupId: string, topic: string) =>
    (await admin.fetchOffsets({ groupId, topics: [topic] }))[0].partitions
      .sort((a, b) => a.partition - b.partition)
      .map((p) => p.offset);
  const ends = async (topic: string) =>
    (await admin.fetchTopicOffsets(topic))
      .sort((a, b) => a.partition - b.partition)
      .map((p) => p.high);

  /** What a consumer of the group reads, from where the group's offsets put it. */
  async function readAs(groupId: string, topics: string[], ms: number): Promise<string[]> {
    const seen: string[] = [];
    const c = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    consumers.push(c);
    await c.connect();
    await c.subscribe({ topics, fromBeginning: true });
    await c.run({ eachMessage: async ({ message }) => void seen.push(String(message.value)) });
    await new Promise((r) => setTimeout(r, ms));
    return seen;
  }

  it('puts a new group at the end of every topic in one call, and it reads only newer records', async () => {
    const a = await topicWith(20);
    const b = await topicWith(7);
    const groupId = uniqueId('at-end');
    await setGroupOffsetsAtEnd(kafka, admin, groupId, [a, b]);
    expect(await committed(groupId, a)).toEqual(await ends(a));
    expect(await committed(groupId, b)).toEqual(await ends(b));
    await producer.send({ topic: b, messages: [{ key: 'u1', value: 'new' }] });
    const seen = await readAs(groupId, [a, b], 3000);
    expect(seen).toEqual(['new']);
  });

  it('commits given offsets, partition by partition', async () => {
    const a = await topicWith(30);
    const groupId = uniqueId('given');
    await commitGroupOffsets(kafka, groupId, [
      {
        topic: a,
        partitions: [
          { partition: 0, offset: '1' },
          { partition: 1, offset: '2' },
          { partition: 2, offset: '0' },
        ],
      },
    ]);
    expect(await committed(groupId, a)).toEqual(['1', '2', '0']);
  });

  it('sets only the topics a group never committed on', async () => {
    const a = await topicWith(5);
    const b = await topicWith(5);
    const groupId = uniqueId('partly');
    await commitGroupOffsets(kafka, groupId, [
      { topic: a, partitions: [0, 1, 2].map((partition) => ({ partition, offset: '0' })) },
    ]);
    expect(await startNewGroupAtEnd(kafka, admin, groupId, [a, b])).toEqual([b]);
    expect(await committed(groupId, a)).toEqual(['0', '0', '0']);
    expect(await committed(groupId, b)).toEqual(await ends(b));
    expect(await startNewGroupAtEnd(kafka, admin, groupId, [a, b])).toEqual([]);
  });

  it('refuses while the group has a running member, and changes nothing', async () => {
    const a = await topicWith(4);
    const groupId = uniqueId('running');
    const member = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    consumers.push(member);
    await member.connect();
    await member.subscribe({ topics: [a], fromBeginning: true });
    let read = 0;
    // No commits of its own: the group has never committed, so only the member keeps it from being set.
    await member.run({ autoCommit: false, eachMessage: async () => void read++ });
    await waitFor(async () => read === 4, { what: 'the member read the topic', timeoutMs: 30000 });
    const before = await committed(groupId, a);
    await expect(
      commitGroupOffsets(kafka, groupId, [
        { topic: a, partitions: [{ partition: 0, offset: '0' }] },
      ]),
    ).rejects.toThrow(/running members/);
    expect(await startNewGroupAtEnd(kafka, admin, groupId, [a])).toEqual([]);
    expect(await committed(groupId, a)).toEqual(before);
  });
});
