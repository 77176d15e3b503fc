import type { INestApplication } from '@nestjs/common';
import { TOPICS, type PushOutcome } from '@app/contracts';
import { EventProducer } from '@app/kafka';
import {
  apnsAtFake,
  apnsDevice,
  apnsToken,
  ensureTlsMaterial,
  FakeApns,
  FakeFcm,
  fcmAtFake,
  fcmDevice,
  fcmToken,
  FIXTURE_APNS_TOPIC,
  generateApnsKey,
  publishTokens,
  startDisposableBroker,
  startService,
  TopicRecorder,
  uniqueId,
  waitFor,
  writeAppsFile,
  type DisposableBroker,
} from '@app/testing';
import { Kafka, logLevel } from 'kafkajs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { DecideConsumer } from '@apps/routing/decide/decide.consumer';
import { SERVICES } from '../services';

/**
 * Calls, Live Activities and APNs priority through the real pipeline: HTTP message → routing
 * (fan-out, decide) → the APNs dispatcher (real node-apn) and the FCM dispatcher (real
 * firebase-admin) → the fakes, whose recorded headers and bodies are checked. A broker of its own
 * (port 19972, started empty): the dispatchers consume whole request topics, so they must not see
 * (and answer) other tests' requests on the shared broker.
 */
const BROKER_PORT = 19972;
const API_KEY = 'push-kinds-key';
const AUTH = { authorization: `Bearer ${API_KEY}` };
const BUNDLE = FIXTURE_APNS_TOPIC;

describe('push kinds end to end (calls, Live Activities, priority)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'push-kinds-'));
  let broker: DisposableBroker;
  let kafka: Kafka;
  let producer: EventProducer;
  let apns: FakeApns;
  let fcm: FakeFcm;
  let outcomes: TopicRecorder;
  const services: INestApplication[] = [];
  let routing: INestApplication;

  const bob = uniqueId('bob');
  const tokens = { alert: apnsToken(), voip: apnsToken(), activity: apnsToken(), fcm: fcmToken() };

  beforeAll(async () => {
    broker = await startDisposableBroker(BROKER_PORT);
    kafka = new Kafka({
      clientId: 'push-kinds',
      brokers: broker.brokers,
      logLevel: logLevel.NOTHING,
    });
    const tls = ensureTlsMaterial(join(dir, 'tls'));
    const key = generateApnsKey(join(dir, 'keys'));
    // Apple's topics of one app: the bundle, its VoIP topic and its Live Activity topic.
    const topics = [BUNDLE, `${BUNDLE}.voip`, `${BUNDLE}.push-type.liveactivity`];
    apns = await new FakeApns({ tls, keys: [key], topics }).start();
    fcm = await FakeFcm.start({ tls });
    const appsFile = writeAppsFile(
      [
        {
          id: 'demo',
          apiKey: API_KEY,
          apns: apnsAtFake(apns, tls, key, [BUNDLE]),
          fcm: fcmAtFake(fcm, 'push-kinds-project', dir),
        },
      ],
      { dir },
    );
    const apnsGroup = uniqueId('apns-dispatcher');
    const fcmGroup = uniqueId('fcm-dispatcher');
    outcomes = await TopicRecorder.start(kafka, [TOPICS.pushOutcome.name]);
    const common = {
      KAFKA_BROKERS: broker.brokers.join(','),
      PUSH_APPS_FILE: appsFile,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'test',
    };
    routing = await startService({
      ...SERVICES.routing,
      env: {
        ...common,
        ROUTING_FANOUT_GROUP: uniqueId('routing-fanout'),
        ROUTING_DECIDE_GROUP: uniqueId('routing-decide'),
      },
    });
    services.push(routing);
    services.push(
      await startService({
        ...SERVICES.apnsDispatcher,
        env: { ...common, APNS_GROUP_ID: apnsGroup, APNS_CONNECTIONS_PER_POOL: '1' },
      }),
    );
    services.push(
      await startService({ ...SERVICES.fcmDispatcher, env: { ...common, FCM_GROUP_ID: fcmGroup } }),
    );
    producer = new EventProducer(kafka);
    await producer.connect();
    await publishTokens(producer, bob, [
      apnsDevice('iphone', tokens.alert),
      { ...apnsDevice('iphone-voip', tokens.voip), pushType: 'voip' },
      // Registered with the bundle id: routing adds `.push-type.liveactivity`.
      { ...apnsDevice('order-42', tokens.activity), pushType: 'liveactivity' },
      fcmDevice('pixel', tokens.fcm),
    ]);
    const decide = routing.get(DecideConsumer);
    await waitFor(() => decide.state.tokens.get(`demo:${bob}`)?.devices.length === 4, {
      what: "routing holds bob's devices",
      timeoutMs: 90000,
    });
  }, 240000);

  afterAll(async () => {
    for (const s of services.reverse()) await s.close();
    await outcomes?.stop();
    await producer?.disconnect();
    await apns?.stop();
    await fcm?.stop();
    await broker?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }, 120000);

  /** Posts a message from alice to bob; returns its id and when it was sent. */
  async function send(offlinePush: object, text = 'hello') {
    const messageId = uniqueId('m');
    const sentAt = new Date();
    const res = await request(routing.getHttpServer())
      .post('/v1/apps/demo/messages')
      .set(AUTH)
      .send({
        messageId,
        sentAt: sentAt.toISOString(),
        conversation: { type: 'c2c', id: 'alice' },
        sender: { userId: 'alice', nickname: 'Alice' },
        recipients: [bob],
        elements: [{ type: 'text', text }],
        offlinePush,
      });
    expect(res.status).toBe(202);
    return { messageId, sentAt };
  }

  /** Waits for one outcome per device named, then returns every outcome of the message. */
  const outcomesOf = (messageId: string, count: number) =>
    waitFor(
      () => {
        const mine = outcomes.values<PushOutcome>(
          TOPICS.pushOutcome.name,
          (o) => o.messageId === messageId,
        );
        return mine.length >= count ? mine : undefined;
      },
      { what: `${count} outcomes of ${messageId}`, timeoutMs: 60000 },
    );
  const summary = (os: PushOutcome[]) =>
    os
      .map((o) => [o.deviceId, o.status, o.status === 'delivered' ? null : o.code])
      .sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1));
  const fcmFor = (messageId: string) =>
    fcm.received.filter(
      (r) => r.token === tokens.fcm && JSON.stringify(r.message).includes(messageId),
    );

  it('a chat message reaches the alert device as an alert and Android, never the VoIP or activity token', async () => {
    const { messageId } = await send({});
    const os = await outcomesOf(messageId, 3);
    expect(summary(os)).toEqual([
      ['iphone', 'delivered', null],
      ['iphone-voip', 'suppressed', 'not_a_call'],
      ['pixel', 'delivered', null],
    ]);
    const [alert] = apns.receivedFor(tokens.alert);
    expect(alert).toMatchObject({
      pushType: 'alert',
      topic: BUNDLE,
      priority: '10',
      payload: { aps: { alert: { title: 'Alice', body: 'hello' } } },
    });
    expect(apns.receivedFor(tokens.voip)).toEqual([]);
    expect(apns.receivedFor(tokens.activity)).toEqual([]);
    expect(fcmFor(messageId)[0].message).toMatchObject({ notification: { body: 'hello' } });
  });

  it('a call reaches only the VoIP device (voip, .voip, priority 10, 30 s) and Android as high-priority data', async () => {
    const alertBefore = apns.receivedFor(tokens.alert).length;
    const { messageId, sentAt } = await send(
      { ext: '{"room":"r-1"}', apns: { pushType: 'voip' } },
      'Incoming call',
    );
    const os = await outcomesOf(messageId, 3);
    expect(summary(os)).toEqual([
      ['iphone', 'suppressed', 'call_needs_voip'],
      ['iphone-voip', 'delivered', null],
      ['pixel', 'delivered', null],
    ]);
    const voip = apns.receivedFor(tokens.voip);
    expect(voip).toHaveLength(1);
    expect(voip[0]).toMatchObject({
      pushType: 'voip',
      topic: `${BUNDLE}.voip`,
      priority: '10',
      payload: {
        type: 'call',
        messageId,
        conversation: 'c2c:alice',
        sender: { userId: 'alice', nickname: 'Alice' },
        body: 'Incoming call',
        ext: '{"room":"r-1"}',
      },
    });
    expect(voip[0].payload).not.toHaveProperty('aps');
    // apns-expiration: the call's 30 s from sentAt, not the message's week.
    expect(Number(voip[0].expiration)).toBe(Math.floor(sentAt.getTime() / 1000) + 30);
    expect(apns.receivedFor(tokens.alert)).toHaveLength(alertBefore);
    const [android] = fcmFor(messageId);
    expect(android.message).not.toHaveProperty('notification');
    expect(android.message).toMatchObject({
      android: { priority: 'high' },
      data: { type: 'call', messageId, senderId: 'alice', body: 'Incoming call' },
    });
    const ttl = (android.message.android as { ttl: string }).ttl;
    expect(Number(ttl.replace(/s$/, ''))).toBeGreaterThan(0);
    expect(Number(ttl.replace(/s$/, ''))).toBeLessThanOrEqual(30);
  });

  it('a Live Activity update reaches only the activity token, with its headers and aps', async () => {
    const before = { alert: apns.receivedFor(tokens.alert).length, fcm: fcm.received.length };
    const staleDate = Math.floor(Date.now() / 1000) + 600;
    const { messageId, sentAt } = await send({
      apns: {
        liveActivity: {
          event: 'update',
          contentState: { courier: 'Sam', etaMinutes: 4 },
          staleDate,
          activityIds: ['order-42'],
        },
      },
    });
    const os = await outcomesOf(messageId, 1);
    expect(summary(os)).toEqual([['order-42', 'delivered', null]]);
    const [la] = apns.receivedFor(tokens.activity);
    expect(la).toMatchObject({
      pushType: 'liveactivity',
      topic: `${BUNDLE}.push-type.liveactivity`,
      priority: '5',
      payload: {
        aps: {
          timestamp: Math.floor(sentAt.getTime() / 1000),
          event: 'update',
          'content-state': { courier: 'Sam', etaMinutes: 4 },
          'stale-date': staleDate,
        },
      },
    });
    expect(la.payload.aps).not.toHaveProperty('badge');
    expect(Object.keys(la.payload)).toEqual(['aps']);
    expect(apns.receivedFor(tokens.alert)).toHaveLength(before.alert);
    expect(fcm.received).toHaveLength(before.fcm);
  });

  it('offlinePush.apns.priority 5 arrives as apns-priority 5', async () => {
    const { messageId } = await send({ apns: { priority: 5 } }, 'not urgent');
    await outcomesOf(messageId, 3);
    const pushed = apns
      .receivedFor(tokens.alert)
      .filter((r) => JSON.stringify(r.payload).includes('not urgent'));
    expect(pushed).toHaveLength(1);
    expect(pushed[0]).toMatchObject({ pushType: 'alert', priority: '5' });
  });

  it('refuses a call that also updates a Live Activity, naming the field', async () => {
    const res = await request(routing.getHttpServer())
      .post('/v1/apps/demo/messages')
      .set(AUTH)
      .send({
        messageId: uniqueId('m'),
        sentAt: new Date().toISOString(),
        conversation: { type: 'c2c', id: 'alice' },
        sender: { userId: 'alice' },
        recipients: [bob],
        elements: [{ type: 'text', text: 'x' }],
        offlinePush: {
          apns: { pushType: 'voip', liveActivity: { event: 'end', contentState: {} } },
        },
      });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('offlinePush.apns.liveActivity');
  });
});
