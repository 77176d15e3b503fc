import { randomUUID } from 'node:crypto';
import { startChild, type Child } from './decide-child.process';
import {
  PushTaskRequestSchema,
  TOPICS,
  userKey,
  type ApnsRequest,
  type FcmRequest,
  type TaskProgress,
} from '@app/contracts';
import { EventProducer, outbound, partitionOfKey } from '@app/kafka';
import {
  apnsDevice,
  apnsToken,
  fcmDevice,
  publishTokens,
  startDisposableBroker,
  TopicRecorder,
  uniqueId,
  waitFor,
  type DisposableBroker,
} from '@app/testing';
import { Kafka, logLevel } from 'kafkajs';
import { splitTask } from '@apps/routing/messages/pushes.service';

const PARTITIONS = 12;
/** Users per partition: with a rate of one user per partition per second, four slices each. */
const PER_PARTITION = 4;
/**
 * The first process dies inside its 20th transaction with records (of 48: one per user): 19
 * slices committed, the walk of every partition begun and none finished.
 */
const KILL_AT = 20;

/** `n` user ids of `demo` for each partition (found by the platform's partitioner), sorted. */
function usersPerPartition(prefix: string, n: number): string[][] {
  const by = Array.from({ length: PARTITIONS }, () => [] as string[]);
  for (let i = 0; by.some((ids) => ids.length < n); i++) {
    const userId = `${prefix}-${String(i).padStart(4, '0')}`;
    const p = partitionOfKey(userKey({ appId: 'demo', userId }), PARTITIONS);
    if (by[p].length < n) by[p].push(userId);
  }
  return by.map((ids) => ids.sort());
}

/**
 * A push task's walk across a crash: a decide process SIGKILLed inside a slice's transaction
 * (after its requests and checkpoint reached the broker, before the commit), in the middle of an
 * all-users push; a second process of the same group takes the partitions over, restores the
 * checkpoints and finishes. Read committed, every user's iPhone and Android phone got exactly one
 * request for the task: no duplicate, no gap. A broker of its own (port 20592).
 */
describe('push task across a decide crash', () => {
  let broker: DisposableBroker;
  let kafka: Kafka;
  let producer: EventProducer;
  let childEnv: Record<string, string>;
  const children: Child[] = [];
  const recorders: TopicRecorder[] = [];

  beforeAll(async () => {
    broker = await startDisposableBroker(20592);
    kafka = new Kafka({
      clientId: 'task-crash-it',
      brokers: broker.brokers,
      logLevel: logLevel.NOTHING,
    });
    producer = new EventProducer(kafka);
    await producer.connect();
    childEnv = { KAFKA_BROKERS: broker.brokers.join(','), LOG_LEVEL: 'error' };
  }, 120_000);

  afterAll(async () => {
    for (const c of children) {
      if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    }
    await Promise.all(children.map((c) => c.exited));
    await Promise.all(recorders.map((r) => r.stop()));
    await producer?.disconnect();
    await broker?.destroy();
  }, 60_000);

  it('a process killed mid-walk: the next owner resumes, no duplicates, no gaps', async () => {
    const byPartition = usersPerPartition(uniqueId('crowd'), PER_PARTITION);
    const users = byPartition.flat().sort();
    // Unknown presence: every device is pushed.
    for (const userId of users) {
      await publishTokens(producer, userId, [
        apnsDevice('iphone', apnsToken()),
        fcmDevice('pixel', `fcm-${userId}-0123456789`),
      ]);
    }
    const taskId = randomUUID();
    const messageId = `task:${taskId}`;
    const topics = [TOPICS.apnsRequest.name, TOPICS.fcmRequest.name];
    const committed = await TopicRecorder.start(kafka, [
      ...topics,
      TOPICS.routingTaskProgress.name,
    ]);
    const uncommitted = await TopicRecorder.start(kafka, topics, { readUncommitted: true });
    recorders.push(committed, uncommitted);

    const group = uniqueId('task-crash-decide');
    const first = startChild({ ...childEnv, GROUP: group, KILL_AT_COMMIT: String(KILL_AT) });
    children.push(first);
    await waitFor(() => first.events.includes('restored'), {
      what: 'the first process restored',
      timeoutMs: 60_000,
    });

    // One user per partition per second: each partition walks its four users in four slices.
    const req = PushTaskRequestSchema.parse({
      offlinePush: { title: 'Maintenance', desc: 'Tonight 2:00-3:00' },
      audience: { all: true },
      options: { rate: PARTITIONS },
    });
    const tasks = splitTask('demo', taskId, req, PARTITIONS, new Date());
    expect(tasks).toHaveLength(PARTITIONS);
    await producer.send(tasks.map((t) => outbound(TOPICS.pushTask, t, { partition: t.partition })));

    expect(await first.exited).toBe('SIGKILL');
    expect(first.events).toContain('killing');
    const secondStartedAt = Date.now();
    const second = startChild({ ...childEnv, GROUP: group });
    children.push(second);

    const progress = () =>
      committed.values<TaskProgress>(TOPICS.routingTaskProgress.name, (p) => p.taskId === taskId);
    const latest = () => {
      const by = new Map<number, TaskProgress>();
      for (const p of progress()) {
        if ((by.get(p.partition)?.seq ?? -1) < p.seq) by.set(p.partition, p);
      }
      return [...by.values()];
    };
    await waitFor(
      () => latest().length === PARTITIONS && latest().every((p) => p.state === 'done'),
      {
        what: 'every partition done',
        timeoutMs: 60_000,
      },
    );
    // Duplicates would arrive meanwhile.
    await new Promise((r) => setTimeout(r, 2000));
    second.proc.kill('SIGTERM');
    await second.exited;

    const ofTask = (r: { messageId: string }) => r.messageId === messageId;
    const apns = committed.values<ApnsRequest>(TOPICS.apnsRequest.name, ofTask);
    const fcm = committed.values<FcmRequest>(TOPICS.fcmRequest.name, ofTask);
    // Exactly one request per device: every user, once each.
    expect(apns.map((r) => r.userId).sort()).toEqual(users);
    expect(fcm.map((r) => r.userId).sort()).toEqual(users);
    expect(new Set([...apns, ...fcm].map((r) => r.jobId)).size).toBe(2 * users.length);
    // Each partition's walk resumed at its committed checkpoint, never from the start: its
    // committed checkpoints are one per slice (seq 1, 2, …), the cursor on its next user each time.
    for (let p = 0; p < PARTITIONS; p++) {
      const walk = progress()
        .filter((c) => c.partition === p)
        .sort((x, y) => x.seq - y.seq);
      expect({ p, seqs: walk.map((c) => c.seq), cursors: walk.map((c) => c.cursor) }).toEqual({
        p,
        seqs: byPartition[p].map((_, i) => i + 1),
        cursors: byPartition[p].map((userId) => userKey({ appId: 'demo', userId })),
      });
      expect(walk[walk.length - 1]).toMatchObject({ state: 'done', decided: PER_PARTITION });
    }

    // Killed mid-walk: the first process committed some users' requests, the second the rest.
    const before = apns.filter((r) => Date.parse(r.createdAt) < secondStartedAt);
    expect(before.length).toBeGreaterThan(0);
    expect(before.length).toBeLessThan(users.length);
    // And inside a transaction that carried requests: read uncommitted, there is more.
    const seen = uncommitted.values<ApnsRequest>(TOPICS.apnsRequest.name, ofTask);
    expect(seen.length).toBeGreaterThan(apns.length);
  }, 150_000);
});
