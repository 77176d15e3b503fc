import { TOPICS, type ApnsRequest, type FcmRequest, type PushIntent } from '@app/contracts';
import { EventProducer, outbound } from '@app/kafka';
import {
  apnsDevice,
  fcmDevice,
  publishPresence,
  publishTokens,
  startGroupAtEnd,
  testKafka,
  TopicRecorder,
  uniqueId,
  waitFor,
} from '@app/testing';
import { startChild, type Child } from './decide-child.process';
import type { Admin, Kafka } from 'kafkajs';

/**
 * A decide process killed (SIGKILL) inside a transaction, after its requests reached the broker
 * and before the commit; a new process takes over. Read committed, every message is pushed once
 * to each device and the badge counts each message once.
 */
describe('decide stage across a crash', () => {
  let kafka: Kafka;
  let admin: Admin;
  let producer: EventProducer;
  const children: Child[] = [];
  const recorders: TopicRecorder[] = [];

  beforeAll(async () => {
    kafka = testKafka('routing-crash-it');
    admin = kafka.admin();
    await admin.connect();
    producer = new EventProducer(kafka);
    await producer.connect();
  });

  afterAll(async () => {
    for (const c of children) {
      if (c.proc.exitCode === null && !c.proc.killed) c.proc.kill('SIGKILL');
    }
    await Promise.all(recorders.map((r) => r.stop()));
    await producer?.disconnect();
    await admin?.disconnect();
  });

  it('neither loses nor duplicates a push, nor counts a badge twice', async () => {
    const user = uniqueId('bob');
    const group = uniqueId('routing-decide-crash');
    await publishTokens(producer, user, [apnsDevice('iphone-1'), fcmDevice('pixel-1')]);
    await publishPresence(producer, user, [
      {
        deviceId: 'iphone-1',
        status: 'push_online',
        unreadCount: 5,
        since: new Date(Date.now() - 60000).toISOString(),
      },
    ]);
    await startGroupAtEnd(kafka, admin, group, [TOPICS.pushIntent.name]);
    const topics = [TOPICS.apnsRequest.name, TOPICS.fcmRequest.name];
    const committed = await TopicRecorder.start(kafka, topics);
    const uncommitted = await TopicRecorder.start(kafka, topics, { readUncommitted: true });
    recorders.push(committed, uncommitted);

    const first = startChild({ GROUP: group, KILL_AT_COMMIT: '3' });
    children.push(first);
    await waitFor(() => first.events.includes('restored'), {
      what: 'first process restored',
      timeoutMs: 60000,
    });

    const ids = Array.from({ length: 12 }, (_, i) => `${user}-m${String(i).padStart(2, '0')}`);
    const intent = (messageId: string): PushIntent => ({
      appId: 'demo',
      userId: user,
      fanoutAt: new Date().toISOString(),
      message: {
        appId: 'demo',
        messageId,
        sentAt: new Date().toISOString(),
        conversation: { type: 'c2c', id: 'alice' },
        sender: { userId: 'alice', nickname: 'Alice' },
        recipients: [user],
        elements: [{ type: 'text', text: messageId }],
        ttlSeconds: 3600,
      },
    });
    // Rounds a few hundred ms apart, so that they are separate batches (separate transactions).
    for (let round = 0; round < 4; round++) {
      await producer.send(
        ids.slice(round * 3, round * 3 + 3).map((id) => outbound(TOPICS.pushIntent, intent(id))),
      );
      if (first.events.includes('killing')) break;
      await new Promise((r) => setTimeout(r, 700));
    }
    expect(await first.exited).toBe('SIGKILL');
    expect(first.events).toContain('killing');
    // The last round again, as a fan-out that crashed too would repeat it: still one push each.
    await producer.send(ids.slice(9).map((id) => outbound(TOPICS.pushIntent, intent(id))));

    const second = startChild({ GROUP: group });
    children.push(second);
    const mine = (r: { userId: string }) => r.userId === user;
    const [apnsReqs, fcmReqs] = await Promise.all([
      committed.collect<ApnsRequest>(TOPICS.apnsRequest.name, mine, {
        count: 12,
        timeoutMs: 60000,
        settleMs: 3000,
      }),
      committed.collect<FcmRequest>(TOPICS.fcmRequest.name, mine, {
        count: 12,
        timeoutMs: 60000,
        settleMs: 3000,
      }),
    ]);
    second.proc.kill('SIGTERM');
    await second.exited;

    const uniqueIds = ids;
    expect(apnsReqs.map((r) => r.messageId)).toEqual(uniqueIds);
    expect(fcmReqs.map((r) => r.messageId)).toEqual(uniqueIds);
    expect(new Set(apnsReqs.map((r) => r.jobId)).size).toBe(uniqueIds.length);
    // Badge: the phone's reported 5, then +1 per message, each counted once.
    expect(apnsReqs.map((r) => (r.payload as { aps: { badge: number } }).aps.badge)).toEqual(
      uniqueIds.map((_, i) => 6 + i),
    );
    expect(
      fcmReqs.map(
        (r) =>
          (r.message as { android: { notification: { notification_count: number } } }).android
            .notification.notification_count,
      ),
    ).toEqual(uniqueIds.map((_, i) => 1 + i));

    // The crashed transaction did reach the broker: read uncommitted, there is more.
    const seenUncommitted = await uncommitted.collect<ApnsRequest>(TOPICS.apnsRequest.name, mine, {
      count: uniqueIds.length + 1,
      timeoutMs: 5000,
    });
    expect(seenUncommitted.length).toBeGreaterThan(uniqueIds.length);
  });
});
