import type { TopicDefinition } from '@app/contracts';
import { ConsumerRunner, EventProducer, outbound, type ConsumedRecord } from '@app/kafka';
import { createTestTopic, testKafka, uniqueId, waitFor } from '@app/testing';
import type { Admin, Kafka } from 'kafkajs';
import { z } from 'zod';

const State = z.object({ userId: z.string(), level: z.number().int() });
const Input = z.object({ userId: z.string(), seq: z.number().int() });
type State = z.infer<typeof State>;
type Input = z.infer<typeof Input>;

/**
 * Co-partitioned consumption: partition N of the input and of the changelog go to one member, and
 * input N waits until changelog N is read up to where it stood at assignment.
 */
describe('co-partitioned runner with state restore', () => {
  let kafka: Kafka;
  let admin: Admin;
  let producer: EventProducer;

  beforeAll(async () => {
    kafka = testKafka();
    admin = kafka.admin();
    await admin.connect();
    producer = new EventProducer(kafka);
    await producer.connect();
  });

  afterAll(async () => {
    await producer.disconnect();
    await admin.disconnect();
  });

  function makeRunner(
    groupId: string,
    stateTopic: TopicDefinition<State, unknown>,
    inputTopic: TopicDefinition<Input, unknown>,
  ) {
    const levels = new Map<string, number>();
    const decisions: Array<{
      userId: string;
      seq: number;
      level: number | undefined;
      partition: number;
    }> = [];
    const assignments: number[][] = [];
    const runner = new ConsumerRunner(kafka, producer, {
      groupId,
      copartitioned: true,
      onAssigned: (ps) => {
        assignments.push(ps);
        levels.clear();
      },
      subscriptions: [
        {
          topic: stateTopic,
          role: 'state',
          handle: async (rs: ConsumedRecord<State>[]) => {
            for (const r of rs) levels.set(r.key!, r.value.level);
          },
        },
        {
          topic: inputTopic,
          handle: async (rs: ConsumedRecord<Input>[], { partition }) => {
            for (const r of rs) {
              decisions.push({
                userId: r.value.userId,
                seq: r.value.seq,
                level: levels.get(r.value.userId),
                partition,
              });
            }
          },
        },
      ],
    });
    return { runner, levels, decisions, assignments };
  }

  it('reads the changelog before the input, on start and again after a restart', async () => {
    const stateTopic = await createTestTopic(admin, State, {
      key: (v) => v.userId,
      partitions: 4,
      cleanup: 'compact',
    });
    const inputTopic = await createTestTopic(admin, Input, { key: (v) => v.userId, partitions: 4 });
    const users = Array.from({ length: 20 }, (_, i) => uniqueId(`u${i}`));
    // Many versions per user: only the last one may be seen by the input handler.
    for (let level = 1; level <= 5; level++) {
      await producer.send(users.map((userId) => outbound(stateTopic, { userId, level })));
    }
    await producer.send(users.map((userId) => outbound(inputTopic, { userId, seq: 1 })));

    const groupId = uniqueId('group');
    const first = makeRunner(groupId, stateTopic, inputTopic);
    await first.runner.start();
    await waitFor(() => first.decisions.length >= users.length, {
      what: 'input decided',
      timeoutMs: 60000,
    });
    expect(first.runner.isRestored()).toBe(true);
    expect(first.assignments[0]).toEqual([0, 1, 2, 3]);
    expect(first.decisions.every((d) => d.level === 5)).toBe(true);
    await first.runner.stop();

    // A change while nobody runs, then a restart: the new member restores from the changelog.
    await producer.send(users.map((userId) => outbound(stateTopic, { userId, level: 6 })));
    await producer.send(users.map((userId) => outbound(inputTopic, { userId, seq: 2 })));
    const second = makeRunner(groupId, stateTopic, inputTopic);
    await second.runner.start();
    await waitFor(() => second.decisions.length >= users.length, {
      what: 'input after restart',
      timeoutMs: 60000,
    });
    expect(second.decisions.map((d) => d.seq)).toEqual(users.map(() => 2)); // committed input not redone
    expect(second.decisions.every((d) => d.level === 6)).toBe(true);
    await second.runner.stop();
  });

  it('gives partition N of both topics to the same member when two members share the group', async () => {
    const stateTopic = await createTestTopic(admin, State, {
      key: (v) => v.userId,
      partitions: 4,
      cleanup: 'compact',
    });
    const inputTopic = await createTestTopic(admin, Input, { key: (v) => v.userId, partitions: 4 });
    const groupId = uniqueId('group');
    const a = makeRunner(groupId, stateTopic, inputTopic);
    const b = makeRunner(groupId, stateTopic, inputTopic);
    await a.runner.start();
    await b.runner.start();
    const users = Array.from({ length: 24 }, (_, i) => uniqueId(`v${i}`));
    await producer.send(users.map((userId) => outbound(stateTopic, { userId, level: 9 })));
    await waitFor(
      () =>
        a.runner.isRestored() &&
        b.runner.isRestored() &&
        a.assignments.length > 0 &&
        b.assignments.length > 0 &&
        a.assignments.at(-1)!.length + b.assignments.at(-1)!.length === 4,
      { what: 'both members assigned', timeoutMs: 60000 },
    );
    await producer.send(users.map((userId) => outbound(inputTopic, { userId, seq: 1 })));
    await waitFor(() => a.decisions.length + b.decisions.length >= users.length, {
      what: 'all decided',
      timeoutMs: 60000,
    });
    const all = [...a.decisions, ...b.decisions];
    expect(all.every((d) => d.level === 9)).toBe(true);
    const aParts = new Set(a.assignments.at(-1));
    expect(a.decisions.every((d) => aParts.has(d.partition))).toBe(true);
    await Promise.all([a.runner.stop(), b.runner.stop()]);
  });
});
