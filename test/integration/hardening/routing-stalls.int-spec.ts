import type { INestApplication } from '@nestjs/common';
import {
  TOPICS,
  type DeadLetter,
  type ImMessageSent,
  type PushIntent,
  type PushOutcome,
} from '@app/contracts';
import { EventProducer, outbound } from '@app/kafka';
import { testKafka, TopicRecorder, uniqueId, waitFor, startService } from '@app/testing';
import { Partitioners, type Admin, type Kafka, type Producer } from 'kafkajs';
import request from 'supertest';
import { FanoutConsumer } from '@apps/routing/fanout/fanout.consumer';
import { SERVICES } from '../services';

const message = (over: Partial<ImMessageSent> = {}): ImMessageSent => {
  const peer = uniqueId('bob');
  return {
    appId: 'demo',
    messageId: uniqueId('m'),
    sentAt: new Date().toISOString(),
    conversation: { type: 'c2c', id: uniqueId('alice') },
    sender: { userId: uniqueId('alice') },
    recipients: [peer],
    elements: [{ type: 'text', text: 'hi' }],
    ttlSeconds: 3600,
    ...over,
  };
};

/** A message whose JSON is `bytes` long: text elements of up to 12,000 characters. */
function messageOfSize(bytes: number, base: ImMessageSent): ImMessageSent {
  const m: ImMessageSent = { ...base, elements: [] };
  let size = Buffer.byteLength(JSON.stringify(m));
  while (size < bytes) {
    const overhead = Buffer.byteLength(JSON.stringify({ type: 'text', text: '' })) + 1;
    const n = Math.min(12000, bytes - size - overhead);
    m.elements.push({ type: 'text', text: 'x'.repeat(Math.max(1, n)) });
    size = Buffer.byteLength(JSON.stringify(m));
  }
  return m;
}

const keyOf = (m: ImMessageSent) => `${m.appId}:${m.conversation.type}:${m.conversation.id}`;

/**
 * The stalls of the hardening issue that live in routing, against the real broker: a message just
 * under 1 MB whose intent cannot fit, a dead letter whose original is mostly control characters,
 * and a partition that keeps failing on one offset (readiness 503 naming it, then moving on).
 */
describe('routing: no input stalls a partition', () => {
  let kafka: Kafka;
  let admin: Admin;
  let raw: Producer;
  let producer: EventProducer;
  let app: INestApplication;
  let rec: TopicRecorder;
  let fanoutGroup: string;

  beforeAll(async () => {
    kafka = testKafka('routing-stalls');
    admin = kafka.admin();
    await admin.connect();
    raw = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await raw.connect();
    producer = new EventProducer(kafka);
    await producer.connect();
    fanoutGroup = uniqueId('routing-fanout');
    rec = await TopicRecorder.start(kafka, [
      TOPICS.pushIntent.name,
      TOPICS.deadLetter.name,
      TOPICS.pushOutcome.name,
    ]);
    // As apps/routing/src/main.ts: message bodies up to 4 MB reach the Kafka size checks.
    app = await startService({
      ...SERVICES.routing,
      env: {
        ...process.env,
        LOG_LEVEL: 'error',
        ROUTING_FANOUT_GROUP: fanoutGroup,
        ROUTING_DECIDE_GROUP: uniqueId('routing-decide'),
        // A group message for a group nobody described waits this long, failing on its offset.
        ROUTING_UNKNOWN_GROUP_GRACE_MS: '14000',
        KAFKA_STALL_AFTER_SECONDS: '5',
      },
    });
    await waitFor(async () => (await request(app.getHttpServer()).get('/health/ready')).ok, {
      what: 'routing ready',
      timeoutMs: 60000,
    });
  });

  afterAll(async () => {
    await app?.close();
    await rec?.stop();
    await raw?.disconnect();
    await producer?.disconnect();
    await admin?.disconnect();
  });

  const intentsOf = (m: ImMessageSent, timeoutMs = 30000) =>
    rec.collect<PushIntent>(TOPICS.pushIntent.name, (v) => v.message.messageId === m.messageId, {
      count: 1,
      timeoutMs,
    });
  const lettersAt = (offset: string, code: string, timeoutMs = 30000) =>
    rec.collect<DeadLetter>(
      TOPICS.deadLetter.name,
      (l) =>
        l.source.topic === TOPICS.imMessageSent.name &&
        l.source.offset === offset &&
        l.error.code === code,
      { count: 1, timeoutMs },
    );

  it('a message just under 1 MB is dead-lettered OUTPUT_TOO_LARGE; the next on its partition and others flow', async () => {
    const big = messageOfSize(1_047_900, message());
    const value = JSON.stringify(big);
    expect(Buffer.byteLength(value)).toBeGreaterThanOrEqual(1_047_900);
    const after = message({ conversation: big.conversation, sender: big.sender });
    const elsewhere = message();
    const [meta] = await raw.send({
      topic: TOPICS.imMessageSent.name,
      messages: [{ key: keyOf(big), value }],
    });
    await producer.send([
      outbound(TOPICS.imMessageSent, after),
      outbound(TOPICS.imMessageSent, elsewhere),
    ]);
    const [letter] = await lettersAt(meta.baseOffset!, 'OUTPUT_TOO_LARGE');
    expect(letter).toBeDefined();
    expect(letter.error.message).toMatch(/push\.intent\.v1.*max\.message\.bytes/);
    // The original bytes are in the letter (cut to fit, flagged, with size and hash).
    const kept =
      letter.valueEncoding === 'base64'
        ? Buffer.from(letter.value!, 'base64')
        : Buffer.from(letter.value!);
    expect(Buffer.from(value).subarray(0, kept.length).equals(kept)).toBe(true);
    if (letter.truncated) expect(letter.originalBytes).toBe(Buffer.byteLength(value));
    expect(await intentsOf(after)).toHaveLength(1);
    expect(await intentsOf(elsewhere)).toHaveLength(1);
  });

  it('a value of 200 KB of U+0001 becomes a dead letter that fits, and the partition moves on', async () => {
    const key = `demo:c2c:${uniqueId('ctl')}`;
    const value = Buffer.from('\u0001'.repeat(200_000));
    const [meta] = await raw.send({ topic: TOPICS.imMessageSent.name, messages: [{ key, value }] });
    const next = message({ conversation: { type: 'c2c', id: key.split(':')[2] } });
    expect(keyOf(next)).toBe(key);
    await producer.send([outbound(TOPICS.imMessageSent, next)]);
    const [letter] = await lettersAt(meta.baseOffset!, 'INVALID_JSON');
    expect(letter.valueEncoding).toBe('base64');
    expect(Buffer.from(letter.value!, 'base64').equals(value)).toBe(true);
    expect(await intentsOf(next)).toHaveLength(1);
  });

  it('a partition failing on one offset turns readiness 503 naming it, and 200 once it moves on', async () => {
    const m = message({
      conversation: { type: 'group', id: uniqueId('nobody-described-it') },
      recipients: null,
    });
    const [meta] = await raw.send({
      topic: TOPICS.imMessageSent.name,
      messages: [{ key: keyOf(m), value: JSON.stringify(m) }],
    });
    const stalled = await waitFor(
      async () => {
        const res = await request(app.getHttpServer()).get('/health/ready');
        return res.status === 503 && res.body.error?.kafka?.stalled ? res.body : undefined;
      },
      { what: 'readiness names the stalled partition', timeoutMs: 13000, intervalMs: 500 },
    );
    expect(stalled.error.kafka.stalled).toEqual([
      expect.objectContaining({
        group: fanoutGroup,
        topic: TOPICS.imMessageSent.name,
        partition: meta.partition,
        offset: meta.baseOffset,
        cause: expect.stringMatching(/waiting for it/),
      }),
    ]);
    const metrics = await request(app.getHttpServer()).get('/metrics');
    expect(metrics.text).toContain(
      `push_kafka_partition_stalled{group="${fanoutGroup}",topic="${TOPICS.imMessageSent.name}",partition="${meta.partition}",service="routing"} 1`,
    );
    // After the grace, the message is dead-lettered UNKNOWN_GROUP and the partition moves on.
    await lettersAt(meta.baseOffset!, 'UNKNOWN_GROUP');
    await waitFor(async () => (await request(app.getHttpServer()).get('/health/ready')).ok, {
      what: 'ready again',
      timeoutMs: 20000,
    });
  });

  it('two messages of a group without membership in one batch are both dead-lettered after one grace, and the partition moves on', async () => {
    const group = uniqueId('nobody-described-it');
    const first = message({ conversation: { type: 'group', id: group }, recipients: null });
    const second = message({ conversation: { type: 'group', id: group }, recipients: null });
    const [meta] = await raw.send({
      topic: TOPICS.imMessageSent.name,
      messages: [first, second].map((m) => ({ key: keyOf(m), value: JSON.stringify(m) })),
    });
    const base = BigInt(meta.baseOffset!);
    // Before the fix, each one's grace restarted the other's on every retry: neither ever left.
    await Promise.all([
      // The grace (14 s) ends between two retries, whose backoff has grown by then.
      lettersAt(String(base), 'UNKNOWN_GROUP', 60000),
      lettersAt(String(base + 1n), 'UNKNOWN_GROUP', 60000),
    ]);
    await waitFor(async () => (await request(app.getHttpServer()).get('/health/ready')).ok, {
      what: 'ready again',
      timeoutMs: 20000,
    });
  });

  it('membership records that fail the schema or are keyed as another group are dead-lettered once, and not applied', async () => {
    const victim = uniqueId('g');
    const [bad, mismatched] = await Promise.all([
      raw.send({
        topic: TOPICS.imGroupMembers.name,
        messages: [{ key: `demo:group:${uniqueId('g')}`, value: '{"appId":"demo","members":7}' }],
      }),
      raw.send({
        topic: TOPICS.imGroupMembers.name,
        messages: [
          {
            key: `demo:group:${victim}`,
            value: JSON.stringify({ appId: 'demo', groupId: uniqueId('other'), members: ['x'] }),
          },
        ],
      }),
    ]);
    const letterOf = (offset: string, partition: number, code: string) =>
      rec.collect<DeadLetter>(
        TOPICS.deadLetter.name,
        (l) =>
          l.source.topic === TOPICS.imGroupMembers.name &&
          l.source.offset === offset &&
          l.source.partition === partition &&
          l.error.code === code,
        { count: 1, timeoutMs: 30000, settleMs: 1000 },
      );
    expect(await letterOf(bad[0].baseOffset!, bad[0].partition, 'SCHEMA_VIOLATION')).toHaveLength(
      1,
    );
    const [letter] = await letterOf(
      mismatched[0].baseOffset!,
      mismatched[0].partition,
      'KEY_MISMATCH',
    );
    expect(letter.value).toContain('"members":["x"]');
    // The group keyed by the record still has no membership: its message waits, then UNKNOWN_GROUP.
    expect(app.get(FanoutConsumer).groups.has(`demo:group:${victim}`)).toBe(false);
  });

  it('decide dead-letters intents of an app missing from the apps file, and decides the next', async () => {
    const userId = uniqueId('u');
    const stranger = { ...message(), appId: 'not-configured' };
    const intent = (m: ImMessageSent, appId: string) => ({
      appId,
      userId,
      message: { ...m, appId, recipients: [userId] },
      fanoutAt: new Date().toISOString(),
    });
    // Same user key on both: same partition, the unknown app's first.
    const [meta] = await raw.send({
      topic: TOPICS.pushIntent.name,
      messages: [
        { key: `demo:${userId}`, value: JSON.stringify(intent(stranger, 'not-configured')) },
      ],
    });
    const next = message();
    await producer.send([outbound(TOPICS.pushIntent, intent(next, 'demo'))]);
    const [letter] = await rec.collect<DeadLetter>(
      TOPICS.deadLetter.name,
      (l) =>
        l.source.topic === TOPICS.pushIntent.name &&
        l.source.offset === meta.baseOffset &&
        l.source.partition === meta.partition,
      { count: 1, timeoutMs: 30000 },
    );
    expect(letter.error.code).toBe('UNKNOWN_APP');
    const outcomes = await rec.collect<PushOutcome>(
      TOPICS.pushOutcome.name,
      (o) => o.messageId === next.messageId,
      { count: 1, timeoutMs: 30000 },
    );
    expect(outcomes).toMatchObject([{ userId, status: 'suppressed', code: 'no_device' }]);
  });

  it('the messages API answers 413 for a message or an intent over the limit, before anything is stored', async () => {
    for (const size of [1_048_299, 1_047_900]) {
      const m = messageOfSize(size, message());
      const res = await request(app.getHttpServer())
        .post('/v1/apps/demo/messages')
        .set('authorization', 'Bearer demo-api-key')
        .send(m);
      expect(res.status).toBe(413);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 413, code: 'MESSAGE_TOO_LARGE' });
      expect(res.body.detail).toMatch(/max\.message\.bytes/);
    }
  });
});
