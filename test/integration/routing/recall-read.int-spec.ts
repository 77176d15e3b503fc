/* eslint-disable @typescript-eslint/no-explicit-any -- provider bodies are inspected as plain JSON */
import type { INestApplication } from '@nestjs/common';
import { TOPICS, type ApnsRequest } from '@app/contracts';
import { EventProducer } from '@app/kafka';
import {
  apnsAtFake,
  apnsDevice,
  apnsToken,
  fcmAtFake,
  fcmDevice,
  fcmToken,
  FakeFcm,
  publishPresence,
  publishTokens,
  startDisposableBroker,
  startGroupAtEnd,
  startService,
  TopicRecorder,
  uniqueId,
  waitFor,
  writeAppsFile,
  type DisposableBroker,
  type FakeApns,
} from '@app/testing';
import { Kafka, logLevel } from 'kafkajs';
import request from 'supertest';
import { DecideConsumer } from '@apps/routing/decide/decide.consumer';
import { ApnsWorld, TOPIC } from '../apns-dispatcher/apns-harness';
import { SERVICES } from '../services';

const API_KEY = 'recall-api-key';
const AUTH = { authorization: `Bearer ${API_KEY}` };
/**
 * The read-sync interval: long enough that the storm of reads below (nine HTTP reads through the
 * decide stage) fits inside it on a loaded machine; at 3 s it did not always.
 */
const READ_SYNC_SECONDS = 8;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Recall and read sync through the real pipeline: the messages API, fan-out, decide, the real
 * node-apn and firebase-admin dispatchers, and the fake APNs and FCM. A broker of its own (port
 * 19992): the dispatchers read every request on their topics, and must not send (or answer for)
 * other tests' requests on the shared broker.
 */
describe('recall and read sync, end to end', () => {
  let broker: DisposableBroker;
  let kafka: Kafka;
  let producer: EventProducer;
  let world: ApnsWorld;
  let apnsFake: FakeApns;
  let fcmFake: FakeFcm;
  let routing: INestApplication;
  let decide: DecideConsumer;
  const dispatchers: INestApplication[] = [];
  let rec: TopicRecorder;

  beforeAll(async () => {
    broker = await startDisposableBroker(19992);
    kafka = new Kafka({
      clientId: 'recall-it',
      brokers: broker.brokers,
      logLevel: logLevel.NOTHING,
    });
    producer = new EventProducer(kafka);
    await producer.connect();
    world = new ApnsWorld();
    apnsFake = await world.fake();
    fcmFake = await FakeFcm.start();
    const appsFile = writeAppsFile(
      [
        {
          id: 'demo',
          apiKey: API_KEY,
          apns: apnsAtFake(apnsFake, world.tls, world.key, [TOPIC]),
          fcm: fcmAtFake(fcmFake, 'recall-project', world.dir),
          texts: { recalled: { default: 'Message recalled', zh: '消息已撤回' } },
        },
      ],
      { dir: world.dir },
    );
    const apnsGroup = uniqueId('apns-dispatcher');
    const fcmGroup = uniqueId('fcm-dispatcher');
    const admin = kafka.admin();
    await admin.connect();
    // The broker outlives the run: the dispatchers start at the end of what earlier runs left.
    await startGroupAtEnd(kafka, admin, apnsGroup, [
      TOPICS.apnsRequest.name,
      TOPICS.apnsRetry.name,
    ]);
    await startGroupAtEnd(kafka, admin, fcmGroup, [TOPICS.fcmRequest.name, TOPICS.fcmRetry.name]);
    await admin.disconnect();
    rec = await TopicRecorder.start(kafka, [TOPICS.apnsRequest.name, TOPICS.deadLetter.name]);
    const base = {
      ...process.env,
      KAFKA_BROKERS: broker.brokers.join(','),
      PUSH_APPS_FILE: appsFile,
      LOG_LEVEL: 'error',
    };
    routing = await startService({
      ...SERVICES.routing,
      env: {
        ...base,
        ROUTING_FANOUT_GROUP: uniqueId('routing-fanout'),
        ROUTING_DECIDE_GROUP: uniqueId('routing-decide'),
        ROUTING_READ_SYNC_SECONDS: String(READ_SYNC_SECONDS),
      },
    });
    decide = routing.get(DecideConsumer);
    dispatchers.push(
      await startService({
        ...SERVICES.apnsDispatcher,
        env: { ...base, APNS_GROUP_ID: apnsGroup, APNS_RETRY_BASE_MS: '200' },
      }),
      await startService({
        ...SERVICES.fcmDispatcher,
        env: { ...base, FCM_GROUP_ID: fcmGroup, FCM_RETRY_BASE_MS: '200' },
      }),
    );
    await waitFor(async () => (await request(routing.getHttpServer()).get('/health/ready')).ok, {
      what: 'routing ready',
      timeoutMs: 90000,
    });
  }, 240_000);

  afterAll(async () => {
    await routing?.close();
    for (const d of dispatchers) await d.close();
    await rec?.stop();
    await producer?.disconnect();
    await apnsFake?.stop();
    await fcmFake?.stop();
    world?.dispose();
    await broker?.destroy();
  }, 60_000);

  const api = () => request(routing.getHttpServer());
  const apnsFor = (token: string) => apnsFake.received.filter((r) => r.token === token);
  const fcmFor = (token: string) => fcmFake.received.filter((r) => r.token === token);
  const aps = (p: Record<string, unknown>) => p.aps as Record<string, unknown>;

  /** bob with an iPhone (reported unread 2) and an Android phone, known to decide. */
  async function bobWithTwoDevices() {
    const bob = uniqueId('bob');
    const iphone = { id: 'iphone-1', token: apnsToken() };
    const pixel = { id: 'pixel-1', token: fcmToken() };
    await publishTokens(producer, bob, [
      apnsDevice(iphone.id, iphone.token),
      fcmDevice(pixel.id, pixel.token),
    ]);
    await publishPresence(producer, bob, [
      { deviceId: iphone.id, status: 'push_online', unreadCount: 2 },
    ]);
    await waitFor(
      () =>
        decide.state.tokens.get(`demo:${bob}`) !== undefined &&
        decide.state.presence.get(`demo:${bob}`) !== undefined,
      { what: 'decide holds bob', timeoutMs: 30000 },
    );
    return { bob, iphone, pixel };
  }

  async function send(from: string, to: string, text: string, messageId = uniqueId('m')) {
    const res = await api()
      .post('/v1/apps/demo/messages')
      .set(AUTH)
      .send({
        messageId,
        sentAt: new Date().toISOString(),
        conversation: { type: 'c2c', id: from },
        sender: { userId: from, nickname: from },
        recipients: [to],
        elements: [{ type: 'text', text }],
      });
    expect(res.status).toBe(202);
    return messageId;
  }

  const recall = (messageId: string, from: string, to: string) =>
    api()
      .post(`/v1/apps/demo/messages/${messageId}/recall`)
      .set(AUTH)
      .send({ conversation: { type: 'c2c', id: from }, senderId: from, recipients: [to] });

  const read = (userId: string, peer: string, deviceId: string) =>
    api()
      .post(`/v1/apps/demo/users/${userId}/conversations/read`)
      .set(AUTH)
      .send({ conversation: { type: 'c2c', id: peer }, deviceId });

  it('replaces a recalled message on every device that got it, and corrects the badge once', async () => {
    const { bob, iphone, pixel } = await bobWithTwoDevices();
    const alice = uniqueId('alice');
    const messageId = await send(alice, bob, 'secret plans');
    await waitFor(() => apnsFor(iphone.token).length === 1 && fcmFor(pixel.token).length === 1, {
      what: 'the message on both devices',
      timeoutMs: 30000,
    });
    const [shown] = apnsFor(iphone.token);
    expect(shown.collapseId).toBe(messageId); // every alert carries a collapse id
    expect(aps(shown.payload)).toMatchObject({ alert: { body: 'secret plans' }, badge: 3 });
    const shownFcm = fcmFor(pixel.token)[0].message as Record<string, any>;
    expect(shownFcm.android.notification).toMatchObject({
      tag: `c2c:${alice}`,
      notification_count: 1,
    });

    const res = await recall(messageId, alice, bob);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ messageId, status: 'accepted' });
    await waitFor(() => apnsFor(iphone.token).length === 2 && fcmFor(pixel.token).length === 2, {
      what: 'the replacements on both devices',
      timeoutMs: 30000,
    });
    const replaced = apnsFor(iphone.token)[1];
    expect(replaced.collapseId).toBe(messageId); // takes the notification's place
    expect(replaced.pushType).toBe('alert');
    expect(replaced.payload).toEqual({
      aps: { alert: { body: 'Message recalled' }, badge: 2, 'thread-id': `c2c:${alice}` },
      type: 'recall',
      recalled: [messageId],
      conversation: `c2c:${alice}`,
    });
    // The newest notification of the conversation on Android: the same tag replaces it.
    const replacedFcm = fcmFor(pixel.token)[1].message as Record<string, any>;
    expect(replacedFcm.notification).toEqual({ body: 'Message recalled' });
    expect(replacedFcm.android.notification).toMatchObject({
      tag: `c2c:${alice}`,
      notification_count: 0,
    });
    expect(replacedFcm.data).toEqual({ type: 'recall', messageId, conversation: `c2c:${alice}` });
    // The replacement is a job of its own (its own id), not a repeat of the message's.
    const jobs = rec.values<ApnsRequest>(TOPICS.apnsRequest.name, (r) => r.userId === bob);
    expect(new Set(jobs.map((j) => j.jobId)).size).toBe(2);

    // A second recall finds nothing: no push, the badge is corrected once.
    expect((await recall(messageId, alice, bob)).status).toBe(202);
    await sleep(3000);
    expect(apnsFor(iphone.token)).toHaveLength(2);
    expect(fcmFor(pixel.token)).toHaveLength(2);
    const counts = decide.state.badges.get(`demo:${bob}`)!.devices;
    expect([counts.get(iphone.id)?.count, counts.get(pixel.id)?.count]).toEqual([2, 0]);
  }, 90_000);

  it('a recall read before its message stops the push', async () => {
    const { bob, iphone, pixel } = await bobWithTwoDevices();
    const alice = uniqueId('alice');
    const messageId = uniqueId('m');
    expect((await recall(messageId, alice, bob)).status).toBe(202);
    await sleep(1500);
    await send(alice, bob, 'too late', messageId);
    // A later message still arrives: the pipeline is not simply stalled.
    await send(alice, bob, 'next one');
    await waitFor(() => apnsFor(iphone.token).length >= 1 && fcmFor(pixel.token).length >= 1, {
      what: 'the next message',
      timeoutMs: 30000,
    });
    await sleep(1500);
    const bodies = apnsFor(iphone.token).map((r) => (aps(r.payload).alert as any)?.body);
    expect(bodies).toEqual(['next one']);
    expect(fcmFor(pixel.token)).toHaveLength(1);
  }, 60_000);

  it('reading a conversation on one device clears it on the others, rate-limited', async () => {
    const { bob, iphone, pixel } = await bobWithTwoDevices();
    const [carol, dave] = [uniqueId('carol'), uniqueId('dave')];
    await send(carol, bob, 'one');
    await send(carol, bob, 'two');
    await send(dave, bob, 'three');
    await waitFor(() => apnsFor(iphone.token).length === 3 && fcmFor(pixel.token).length === 3, {
      what: 'three messages on both devices',
      timeoutMs: 30000,
    });
    expect(aps(apnsFor(iphone.token)[2].payload).badge).toBe(5);

    // Read on the Android phone: the iPhone gets a background push with the badge less carol's two.
    expect((await read(bob, carol, pixel.id)).status).toBe(202);
    await waitFor(() => apnsFor(iphone.token).length === 4, {
      what: 'the read sync on the iPhone',
      timeoutMs: 30000,
    });
    const sync = apnsFor(iphone.token)[3];
    expect(sync.pushType).toBe('background');
    expect(sync.priority).toBe('5');
    expect(sync.payload).toEqual({
      aps: { 'content-available': 1, badge: 3 },
      type: 'read',
      conversation: `c2c:${carol}`,
      conversations: [`c2c:${carol}`],
    });
    await sleep(1000);
    expect(fcmFor(pixel.token)).toHaveLength(3); // the reading device gets nothing

    // A storm of reads (dave's conversation on the phone, then repeats) inside the interval: the
    // badge drops at once, nothing is pushed, the sync is owed.
    for (let i = 0; i < 8; i++) {
      expect((await read(bob, i % 2 ? dave : carol, pixel.id)).status).toBe(202);
    }
    const count = (id: string) => decide.state.badges.get(`demo:${bob}`)?.devices.get(id)?.count;
    await waitFor(() => count(iphone.id) === 2, {
      what: "dave's read lowering the badge at once",
      timeoutMs: 30000,
    });
    expect(count(pixel.id)).toBe(0);
    expect(apnsFor(iphone.token)).toHaveLength(4);
    // The next read after the interval (of nothing unread) sends the owed sync: dave, badge 2.
    await sleep(READ_SYNC_SECONDS * 1000);
    expect(apnsFor(iphone.token)).toHaveLength(4);
    expect((await read(bob, carol, pixel.id)).status).toBe(202);
    await waitFor(() => apnsFor(iphone.token).length === 5, {
      what: 'the owed read sync on the iPhone',
      timeoutMs: 30000,
    });
    expect(apnsFor(iphone.token)[4].payload).toEqual({
      aps: { 'content-available': 1, badge: 2 },
      type: 'read',
      conversation: `c2c:${dave}`,
      conversations: [`c2c:${dave}`],
    });
  }, 90_000);

  it('refuses bad recall and read bodies with problem+json naming the field', async () => {
    const bad = await api()
      .post('/v1/apps/demo/messages/m-1/recall')
      .set(AUTH)
      .send({ conversation: { type: 'c2c', id: 'alice' }, recipients: [], colour: 'red' });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(JSON.stringify(bad.body)).toMatch(/recipients/);
    const unknown = await api()
      .post('/v1/apps/demo/users/bob/conversations/read')
      .set(AUTH)
      .send({ conversation: { type: 'c2c', id: 'alice' }, colour: 'red' });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toMatch(/colour/);
    const badId = await api()
      .post('/v1/apps/demo/users/b:ob/conversations/read')
      .set(AUTH)
      .send({ conversation: { type: 'c2c', id: 'alice' } });
    expect(badId.status).toBe(400);
    expect(JSON.stringify(badId.body)).toMatch(/userId/);
    const noKey = await api()
      .post('/v1/apps/demo/users/bob/conversations/read')
      .send({ conversation: { type: 'c2c', id: 'alice' } });
    expect(noKey.status).toBe(401);
  });
});
