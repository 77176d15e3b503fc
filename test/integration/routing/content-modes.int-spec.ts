import type { INestApplication } from '@nestjs/common';
import { TOPICS } from '@app/contracts';
import {
  apnsAtFake,
  apnsToken,
  FakeFcm,
  fcmAtFake,
  fcmToken,
  startGroupAtEnd,
  startService,
  testKafka,
  uniqueId,
  waitFor,
  writeAppsFile,
  type FakeApns,
  type FakeApnsReceived,
  type ReceivedSend,
} from '@app/testing';
import type { Kafka } from 'kafkajs';
import { Client } from 'pg';
import request from 'supertest';
import { DecideConsumer } from '@apps/routing/decide/decide.consumer';
import { ApnsWorld, dispatcherEnv, startDispatcher, TOPIC } from '../apns-dispatcher/apns-harness';
import { SERVICES } from '../services';

const ZH_HANT_NEW = '你有一則新訊息';

/**
 * Languages, privacy (id-only), FCM data-only and web push through the real pipeline: devices and
 * settings registered at the token registry's HTTP API (its tables in a schema of their own), the
 * registry's snapshots → routing (HTTP message → fan-out → decide) → the APNs and FCM dispatchers
 * (node-apn, firebase-admin) → the fake APNs and FCM, on the shared broker. Tenants of this run
 * alone; the dispatchers' groups start at the end of their topics.
 */
describe('content modes end to end', () => {
  const world = new ApnsWorld();
  const schema = `content_${uniqueId('s')
    .replace(/[^a-z0-9_]/gi, '_')
    .toLowerCase()}`;
  const dbUrl = process.env.DATABASE_URL!;
  const a = { id: uniqueId('content'), key: uniqueId('key') };
  const b = { id: uniqueId('dataonly'), key: uniqueId('key') };
  let kafka: Kafka;
  let apnsFake: FakeApns;
  let fcmFake: FakeFcm;
  let appsFile: string;
  const apps: INestApplication[] = [];
  let registry: INestApplication;
  let routing: INestApplication;

  beforeAll(async () => {
    kafka = testKafka('content-modes-it');
    apnsFake = await world.fake();
    fcmFake = await FakeFcm.start({ tls: world.tls });
    appsFile = writeAppsFile(
      [
        {
          id: a.id,
          apiKey: a.key,
          apns: apnsAtFake(apnsFake, world.tls, world.key, [TOPIC]),
          fcm: fcmAtFake(fcmFake, `${a.id}-project`, world.dir),
          texts: { newMessage: { 'zh-Hant': ZH_HANT_NEW, default: 'New message' } },
          web: { icon: 'https://chat.example.com/icon.png', link: 'https://chat.example.com/' },
        },
        {
          id: b.id,
          apiKey: b.key,
          fcm: { ...fcmAtFake(fcmFake, `${b.id}-project`, world.dir), dataOnly: true },
        },
      ],
      { dir: world.dir },
    );
    const db = new Client({ connectionString: dbUrl });
    await db.connect();
    await db.query(`CREATE SCHEMA ${schema}`);
    await db.end();
    const sep = dbUrl.includes('?') ? '&' : '?';
    registry = await startService({
      ...SERVICES.tokenRegistry,
      env: {
        ...process.env,
        LOG_LEVEL: 'warn',
        PUSH_APPS_FILE: appsFile,
        DATABASE_URL: `${dbUrl}${sep}options=-c%20search_path%3D${schema}`,
        REGISTRY_RUN_MIGRATIONS: 'true',
        REGISTRY_INVALIDATION_CONSUMER: 'false',
        INSTANCE_ID: uniqueId('registry'),
      },
    });
    apps.push(registry);
    routing = await startService({
      ...SERVICES.routing,
      env: {
        ...process.env,
        LOG_LEVEL: 'warn',
        PUSH_APPS_FILE: appsFile,
        ROUTING_FANOUT_GROUP: uniqueId('routing-fanout'),
        ROUTING_DECIDE_GROUP: uniqueId('routing-decide'),
      },
    });
    apps.push(routing);
    const admin = kafka.admin();
    await admin.connect();
    const apnsGroup = uniqueId('apns-dispatcher');
    const fcmGroup = uniqueId('fcm-dispatcher');
    await startGroupAtEnd(kafka, admin, apnsGroup, [
      TOPICS.apnsRequest.name,
      TOPICS.apnsRetry.name,
    ]);
    await startGroupAtEnd(kafka, admin, fcmGroup, [TOPICS.fcmRequest.name, TOPICS.fcmRetry.name]);
    await admin.disconnect();
    const brokers = process.env.KAFKA_BROKERS!.split(',');
    apps.push(
      await startDispatcher(dispatcherEnv(brokers, appsFile, { APNS_GROUP_ID: apnsGroup })),
    );
    apps.push(
      await startService({
        ...SERVICES.fcmDispatcher,
        env: {
          ...process.env,
          LOG_LEVEL: 'warn',
          PUSH_APPS_FILE: appsFile,
          FCM_GROUP_ID: fcmGroup,
        },
      }),
    );
    await waitFor(async () => (await request(routing.getHttpServer()).get('/health/ready')).ok, {
      what: 'routing ready (state restored)',
      timeoutMs: 120000,
    });
  }, 240000);

  afterAll(async () => {
    for (const app of apps.reverse()) await app.close();
    await apnsFake?.stop();
    await fcmFake?.stop();
    const db = new Client({ connectionString: dbUrl });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.end();
    world.dispose();
  }, 60000);

  const tenantOf = (appId: string) => (appId === a.id ? a : b);

  /** A device registered at the registry's HTTP API; returns its token. */
  async function register(
    appId: string,
    userId: string,
    deviceId: string,
    body: { platform: 'ios' | 'android' | 'web' | 'desktop'; locale?: string },
  ): Promise<string> {
    const token = body.platform === 'ios' ? apnsToken() : fcmToken();
    const apns = body.platform === 'ios' ? { topic: TOPIC, environment: 'sandbox' } : {};
    const res = await request(registry.getHttpServer())
      .put(`/v1/apps/${appId}/users/${userId}/devices/${deviceId}`)
      .set({ authorization: `Bearer ${tenantOf(appId).key}` })
      .send({ ...body, ...apns, token });
    expect(res.status).toBeLessThan(300);
    return token;
  }

  async function putSettings(appId: string, userId: string, body: object): Promise<number> {
    const res = await request(registry.getHttpServer())
      .put(`/v1/apps/${appId}/users/${userId}/settings`)
      .set({ authorization: `Bearer ${tenantOf(appId).key}` })
      .send(body);
    expect(res.status).toBe(200);
    return (res.body as { version: number }).version;
  }

  /** Waits until routing's decide stage holds this version (or newer) of the user's snapshot. */
  async function routingSees(appId: string, userId: string, version: number): Promise<void> {
    const decide = routing.get(DecideConsumer);
    await waitFor(() => (decide.state.tokens.get(`${appId}:${userId}`)?.version ?? -1) >= version, {
      what: `routing has version ${version} of ${userId}`,
      timeoutMs: 30000,
      intervalMs: 200,
    });
  }

  async function send(appId: string, to: string, over: object = {}): Promise<string> {
    const messageId = uniqueId('m');
    const res = await request(routing.getHttpServer())
      .post(`/v1/apps/${appId}/messages`)
      .set({ authorization: `Bearer ${tenantOf(appId).key}` })
      .send({
        messageId,
        sentAt: new Date().toISOString(),
        conversation: { type: 'c2c', id: 'alice' },
        sender: { userId: 'alice', nickname: 'Alice' },
        recipients: [to],
        elements: [{ type: 'text', text: 'top secret text' }],
        ...over,
      });
    expect(res.status).toBe(202);
    return messageId;
  }

  const apnsGot = (token: string, n = 1): Promise<FakeApnsReceived[]> =>
    waitFor(
      () => (apnsFake.receivedFor(token).length >= n ? apnsFake.receivedFor(token) : undefined),
      {
        what: `APNs received ${n} push(es)`,
        timeoutMs: 60000,
      },
    );
  const fcmGot = (token: string, n = 1): Promise<ReceivedSend[]> =>
    waitFor(() => (fcmFake.sendsTo(token).length >= n ? fcmFake.sendsTo(token) : undefined), {
      what: `FCM received ${n} message(s)`,
      timeoutMs: 60000,
    });

  /** The version a user's snapshot reaches after these registrations (one bump each). */
  let users: {
    tw: string;
    en: string;
    web: string;
    priv: string;
    dataApp: string;
  };
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    users = {
      tw: uniqueId('tw'),
      en: uniqueId('en'),
      web: uniqueId('web'),
      priv: uniqueId('priv'),
      dataApp: uniqueId('dataapp'),
    };
    tokens.twIphone = await register(a.id, users.tw, 'iphone', {
      platform: 'ios',
      locale: 'zh-Hant-TW',
    });
    tokens.enIphone = await register(a.id, users.en, 'iphone', { platform: 'ios', locale: 'en' });
    tokens.enPixel = await register(a.id, users.en, 'pixel', { platform: 'android', locale: 'en' });
    tokens.web = await register(a.id, users.web, 'browser', { platform: 'web', locale: 'en' });
    tokens.privIphone = await register(a.id, users.priv, 'iphone', {
      platform: 'ios',
      locale: 'zh-Hant-TW',
    });
    tokens.privPixel = await register(a.id, users.priv, 'pixel', { platform: 'android' });
    tokens.dataPixel = await register(b.id, users.dataApp, 'pixel', { platform: 'android' });
    await routingSees(a.id, users.tw, 1);
    await routingSees(a.id, users.en, 2);
    await routingSees(a.id, users.web, 1);
    await routingSees(a.id, users.priv, 2);
    await routingSees(b.id, users.dataApp, 1);
  }, 120000);

  const localized = {
    'zh-Hant': { title: '新照片', desc: '你收到一張照片' },
    default: { title: 'New photo', desc: 'You got a photo' },
  };

  it('shows each device the localized text of its locale (zh-Hant-TW → zh-Hant, en → default)', async () => {
    await send(a.id, users.tw, { offlinePush: { localized } });
    await send(a.id, users.en, { offlinePush: { localized } });
    const [tw] = await apnsGot(tokens.twIphone);
    expect(tw.payload.aps).toMatchObject({ alert: { title: '新照片', body: '你收到一張照片' } });
    const [en] = await apnsGot(tokens.enIphone);
    expect(en.payload.aps).toMatchObject({
      alert: { title: 'New photo', body: 'You got a photo' },
    });
    const [pixel] = await fcmGot(tokens.enPixel);
    expect(pixel.message.notification).toEqual({ title: 'New photo', body: 'You got a photo' });
    expect(JSON.stringify([tw, en, pixel])).not.toContain('top secret');
  }, 90000);

  it('sends only ids once the user chose id_only at the registry (registry → snapshot → routing)', async () => {
    const before = await send(a.id, users.priv, { offlinePush: { ext: '{"secret":1}' } });
    const [fullApns] = await apnsGot(tokens.privIphone);
    expect(fullApns.payload).toMatchObject({ aps: { alert: { body: 'top secret text' } } });
    const [fullFcm] = await fcmGot(tokens.privPixel);
    expect(fullFcm.message.notification).toMatchObject({ body: 'top secret text' });
    expect((fullFcm.message.data as Record<string, string>).messageId).toBe(before);

    const version = await putSettings(a.id, users.priv, { privacy: 'id_only' });
    await routingSees(a.id, users.priv, version);
    const after = await send(a.id, users.priv, {
      offlinePush: { ext: '{"secret":1}', apns: { subTitle: 'secret sub' } },
    });
    const idOnlyApns = (await apnsGot(tokens.privIphone, 2))[1];
    expect(Object.keys(idOnlyApns.payload).sort()).toEqual(['aps', 'conversation', 'messageId']);
    expect(idOnlyApns.payload).toMatchObject({
      aps: {
        alert: { 'loc-key': 'PUSH_NEW_MESSAGE', body: ZH_HANT_NEW },
        'mutable-content': 1,
        'thread-id': 'c2c:alice',
      },
      messageId: after,
      conversation: 'c2c:alice',
    });
    expect(Object.keys((idOnlyApns.payload.aps as { alert: object }).alert).sort()).toEqual([
      'body',
      'loc-key',
    ]);
    const idOnlyFcm = (await fcmGot(tokens.privPixel, 2))[1];
    expect(idOnlyFcm.message.notification).toBeUndefined();
    expect(idOnlyFcm.message.data).toEqual({ messageId: after, conversation: 'c2c:alice' });
    expect(idOnlyFcm.message.android).toMatchObject({ priority: 'high' });
    expect(JSON.stringify([idOnlyApns, idOnlyFcm])).not.toMatch(/secret|Alice/);
  }, 90000);

  it('sends data-only messages without a notification block (per message and per app)', async () => {
    const perMessage = await send(a.id, users.en, {
      elements: [{ type: 'text', text: 'render me' }],
      offlinePush: { android: { dataOnly: true, priority: 'normal' } },
    });
    const got = (await fcmGot(tokens.enPixel, 2))[1];
    expect(got.message.notification).toBeUndefined();
    expect((got.message.android as Record<string, unknown>).notification).toBeUndefined();
    expect(got.message.android).toMatchObject({ priority: 'normal' });
    expect(got.message.data).toMatchObject({
      messageId: perMessage,
      conversation: 'c2c:alice',
      title: 'Alice',
      body: 'render me',
      sound: 'default',
    });

    const perApp = await send(b.id, users.dataApp, {
      elements: [{ type: 'text', text: 'app renders' }],
    });
    const [fromApp] = await fcmGot(tokens.dataPixel);
    expect(fromApp.message.notification).toBeUndefined();
    expect(fromApp.message.data).toMatchObject({ messageId: perApp, body: 'app renders' });
  }, 90000);

  it('sends web devices a webpush block (link, icon, TTL, urgency) and no android block', async () => {
    const messageId = await send(a.id, users.web, {
      elements: [{ type: 'text', text: 'hello web' }],
      ttlSeconds: 3600,
      offlinePush: { web: { link: 'https://chat.example.com/c/alice', urgency: 'low' } },
    });
    const [got] = await fcmGot(tokens.web);
    expect(got.message.android).toBeUndefined();
    expect(got.message.notification).toBeUndefined();
    const webpush = got.message.webpush as {
      headers: Record<string, string>;
      notification: Record<string, unknown>;
      fcm_options: { link: string };
    };
    expect(webpush.headers.Urgency).toBe('low');
    expect(Number(webpush.headers.TTL)).toBeGreaterThan(3500);
    expect(Number(webpush.headers.TTL)).toBeLessThanOrEqual(3600);
    expect(webpush.notification).toEqual({
      title: 'Alice',
      body: 'hello web',
      icon: 'https://chat.example.com/icon.png',
      tag: 'c2c:alice',
    });
    expect(webpush.fcm_options).toEqual({ link: 'https://chat.example.com/c/alice' });
    expect(got.message.data).toMatchObject({ messageId, conversation: 'c2c:alice' });
  }, 90000);
});
