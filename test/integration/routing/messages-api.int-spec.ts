import type { INestApplication } from '@nestjs/common';
import { TOPICS, type ImMessageSent } from '@app/contracts';
import { EventProducer } from '@app/kafka';
import { testKafka, TopicRecorder, uniqueId, startService } from '@app/testing';
import type { Admin, Kafka } from 'kafkajs';
import request from 'supertest';
import { MessagesService } from '@apps/routing/messages/messages.service';
import { SERVICES } from '../services';

const DEMO = { authorization: 'Bearer demo-api-key' };
const OTHER = { authorization: 'Bearer other-api-key' };

/**
 * `POST /v1/apps/{appId}/messages` of the routing service, in-process against the real broker
 * (the fan-out and decide stages off): strict bodies, the app id from the path, problems for bad
 * input, and backpressure when Kafka does not keep up.
 */
describe('routing messages API', () => {
  let kafka: Kafka;
  let admin: Admin;
  let app: INestApplication;
  let rec: TopicRecorder;

  beforeAll(async () => {
    kafka = testKafka('routing-messages-it');
    admin = kafka.admin();
    await admin.connect();
    rec = await TopicRecorder.start(kafka, [TOPICS.imMessageSent.name]);
    app = await startService({
      ...SERVICES.routing,
      env: {
        ...process.env,
        LOG_LEVEL: 'warn',
        ROUTING_FANOUT: 'false',
        ROUTING_DECIDE: 'false',
        ROUTING_MESSAGES_MAX_PENDING: '3',
        ROUTING_MESSAGES_MAX_PENDING_PER_APP: '2',
        ROUTING_MESSAGES_RETRY_AFTER_SECONDS: '2',
      },
    });
  });

  afterAll(async () => {
    await app?.close();
    await rec?.stop();
    await admin?.disconnect();
  });

  const message = (over: Record<string, unknown> = {}) => ({
    messageId: uniqueId('m'),
    sentAt: new Date().toISOString(),
    conversation: { type: 'c2c', id: 'alice' },
    sender: { userId: 'alice', nickname: 'Alice' },
    recipients: ['bob'],
    elements: [{ type: 'text', text: 'hello' }],
    ...over,
  });
  const post = (body: unknown, auth = DEMO, appId = 'demo') =>
    request(app.getHttpServer())
      .post(`/v1/apps/${appId}/messages`)
      .set(auth)
      .send(body as object);
  const fieldsOf = (res: request.Response): string[] => {
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    return (res.body.errors as Array<{ field: string }>).map((e) => e.field);
  };

  it("takes the path's appId when the body leaves it out, and stores the message", async () => {
    const m = message();
    const res = await post(m);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ messageId: m.messageId, status: 'accepted' });
    const [stored] = await rec.collect<ImMessageSent>(
      TOPICS.imMessageSent.name,
      (v) => v.messageId === m.messageId,
      { count: 1 },
    );
    expect(stored).toMatchObject({ appId: 'demo', messageId: m.messageId });
  });

  it("refuses a body appId other than the path's (400 naming appId)", async () => {
    expect(fieldsOf(await post(message({ appId: 'other' })))).toEqual(['appId']);
  });

  it('refuses unknown fields like the other APIs, naming each', async () => {
    const res = await post(
      message({ colour: 'red', offlinePush: { apns: { sonud: 'bell.aiff' } } }),
    );
    expect(fieldsOf(res).sort()).toEqual(['colour', 'offlinePush.apns.sonud']);
  });

  it('refuses NUL in ids and sounds, and image URLs that are not https', async () => {
    expect(fieldsOf(await post(message({ recipients: ['b\u0000b'] })))).toEqual(['recipients.0']);
    expect(
      fieldsOf(await post(message({ offlinePush: { android: { sound: 'a\u0000.mp3' } } }))),
    ).toEqual(['offlinePush.android.sound']);
    const image = await post(
      message({ offlinePush: { apns: { image: 'http://cdn.example.com/a.png' } } }),
    );
    expect(fieldsOf(image)).toEqual(['offlinePush.apns.image']);
  });

  it('answers a 10,000-deep element, an unknown Content-Encoding and a 20,000-character app id with problems', async () => {
    const deep = JSON.stringify(message()).replace(
      '{"type":"text","text":"hello"}',
      `{"type":"image","meta":${'['.repeat(10000)}${']'.repeat(10000)}}`,
    );
    const tooDeep = await request(app.getHttpServer())
      .post('/v1/apps/demo/messages')
      .set(DEMO)
      .set('content-type', 'application/json')
      .send(deep);
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.body.code).toBe('JSON_TOO_DEEP');
    const encoded = await request(app.getHttpServer())
      .post('/v1/apps/demo/messages')
      .set(DEMO)
      .set('content-type', 'application/json')
      .set('content-encoding', 'compress')
      .send(JSON.stringify(message()));
    expect(encoded.status).toBe(415);
    expect(encoded.headers['content-type']).toContain('application/problem+json');
    expect(fieldsOf(await post(message(), DEMO, 'x'.repeat(20000)))).toEqual(['appId']);
  });

  it('answers 503 with Retry-After beyond the pending caps, per app first, and recovers', async () => {
    const producer = app.get(EventProducer);
    const service = app.get(MessagesService);
    // Kafka "slow": sends wait until released.
    const held: Array<() => void> = [];
    const original = producer.sendEncoded.bind(producer);
    const spy = jest
      .spyOn(producer, 'sendEncoded')
      .mockImplementation(
        (records) => new Promise<void>((ok) => held.push(() => void original(records).then(ok))),
      );
    try {
      const first = [post(message()), post(message())].map((r) => r.then((x) => x));
      await waitUntil(() => service.pending.countOf('demo') === 2);
      const third = await post(message());
      expect(third.status).toBe(503);
      expect(third.headers['content-type']).toContain('application/problem+json');
      expect(third.headers['retry-after']).toBe('2');
      expect(third.body.code).toBe('BACKPRESSURE');
      // Another app still has room (the per-app cap kept some for it)...
      const other = post(message(), OTHER, 'other').then((x) => x);
      await waitUntil(() => service.pending.count === 3);
      // ...until the total cap is reached.
      expect((await post(message(), OTHER, 'other')).status).toBe(503);
      // Kafka catches up: every held request is answered 202 and the room comes back.
      held.splice(0).forEach((release) => release());
      for (const res of await Promise.all([...first, other])) expect(res.status).toBe(202);
      expect(service.pending.count).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect((await post(message())).status).toBe(202);
  });
});

async function waitUntil(cond: () => boolean, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
