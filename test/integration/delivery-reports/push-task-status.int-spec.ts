import type { INestApplication } from '@nestjs/common';
import {
  DEFAULT_PUSH_SETTINGS,
  TOPICS,
  type PresenceUserState,
  type TokenUserDevices,
} from '@app/contracts';
import { EventProducer, outbound } from '@app/kafka';
import {
  apnsAtFake,
  apnsDevice,
  apnsToken,
  startDisposableBroker,
  startGroupAtEnd,
  startService,
  uniqueId,
  waitFor,
  writeAppsFile,
  type DisposableBroker,
  type FakeApns,
} from '@app/testing';
import { Kafka, logLevel } from 'kafkajs';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { DecideConsumer } from '@apps/routing/decide/decide.consumer';
import { ApnsWorld, dispatcherEnv, startDispatcher, TOPIC } from '../apns-dispatcher/apns-harness';
import { SERVICES } from '../services';
import { dropSchema, migratedDataSource, startReports, testSchema } from './reports.fixture';

const APP = 'status';
const AUTH = { authorization: 'Bearer status-api-key' };

/**
 * A push task's status through the real services, on a broker of its own (port 20292): routing
 * decides, the real APNs dispatcher sends to the fake APNs, delivery-reports stores the outcomes
 * and routing's checkpoints and answers GET /v1/apps/{appId}/pushes/{taskId}.
 */
describe('push task status (delivery-reports)', () => {
  const schema = testSchema();
  let broker: DisposableBroker;
  let kafka: Kafka;
  let producer: EventProducer;
  let world: ApnsWorld;
  let fake: FakeApns;
  let routing: INestApplication;
  let dispatcher: INestApplication;
  let reports: INestApplication;
  let ds: DataSource;

  beforeAll(async () => {
    broker = await startDisposableBroker(20292);
    kafka = new Kafka({
      clientId: 'status-it',
      brokers: broker.brokers,
      logLevel: logLevel.NOTHING,
    });
    producer = new EventProducer(kafka);
    await producer.connect();
    world = new ApnsWorld();
    fake = await world.fake();
    const appsFile = writeAppsFile(
      [
        {
          id: APP,
          apiKey: 'status-api-key',
          apns: apnsAtFake(fake, world.tls, world.key, [TOPIC]),
        },
      ],
      { dir: world.dir },
    );
    ds = await migratedDataSource(schema);
    const brokers = broker.brokers.join(',');
    const env = {
      ...process.env,
      KAFKA_BROKERS: brokers,
      PUSH_APPS_FILE: appsFile,
      LOG_LEVEL: 'error',
    };
    const apnsEnv = dispatcherEnv(broker.brokers, appsFile);
    const admin = kafka.admin();
    await admin.connect();
    await startGroupAtEnd(kafka, admin, apnsEnv.APNS_GROUP_ID, [
      TOPICS.apnsRequest.name,
      TOPICS.apnsRetry.name,
    ]);
    await admin.disconnect();
    routing = await startService({
      ...SERVICES.routing,
      env: { ...env, ROUTING_DECIDE_GROUP: uniqueId('status-decide'), ROUTING_FANOUT: 'false' },
    });
    dispatcher = await startDispatcher(apnsEnv);
    reports = await startReports(schema, { KAFKA_BROKERS: brokers, PUSH_APPS_FILE: appsFile });
    await waitFor(async () => (await request(routing.getHttpServer()).get('/health/ready')).ok, {
      what: 'routing ready',
      timeoutMs: 90_000,
    });
  }, 240_000);

  afterAll(async () => {
    await routing?.close();
    await dispatcher?.close();
    await reports?.close();
    await dropSchema(ds, schema);
    await producer?.disconnect();
    await fake?.stop();
    world?.dispose();
    await broker?.destroy();
  }, 60_000);

  const post = (body: Record<string, unknown>) =>
    request(routing.getHttpServer()).post(`/v1/apps/${APP}/pushes`).set(AUTH).send(body);
  const status = (taskId: string) =>
    request(reports.getHttpServer()).get(`/v1/apps/${APP}/pushes/${taskId}`).set(AUTH);
  const content = { offlinePush: { title: 'Notice', desc: 'Read me' } };

  it('counts a finished task: targeted, decided, sent, suppressed, partitions', async () => {
    // Ten users with an iPhone; u9's is online (suppressed `online` without includeOnline).
    const ids = Array.from({ length: 10 }, (_, i) => `u${i}`);
    const snapshots: TokenUserDevices[] = ids.map((userId) => ({
      appId: APP,
      userId,
      version: 1,
      updatedAt: new Date().toISOString(),
      devices: [apnsDevice('iphone', apnsToken())],
      settings: { ...DEFAULT_PUSH_SETTINGS },
    }));
    const online: PresenceUserState = {
      appId: APP,
      userId: 'u9',
      version: 1,
      updatedAt: new Date().toISOString(),
      devices: [
        {
          deviceId: 'iphone',
          platform: 'ios',
          status: 'online',
          since: new Date().toISOString(),
          lastSeenAt: new Date().toISOString(),
          unreadCount: null,
        },
      ],
    };
    await producer.send([
      ...snapshots.map((v) => outbound(TOPICS.tokenUserDevices, v)),
      outbound(TOPICS.presenceUserState, online),
    ]);
    const decide = routing.get(DecideConsumer);
    await waitFor(
      () =>
        ids.every((id) => decide.state.tokens.has(`${APP}:${id}`)) &&
        decide.state.presence.has(`${APP}:u9`),
      { what: 'the users known to decide', timeoutMs: 30_000 },
    );
    const res = await post({ ...content, audience: { all: true }, options: { rate: 5000 } });
    expect(res.status).toBe(202);
    const { taskId } = res.body as { taskId: string };
    const final = await waitFor(
      async () => {
        const r = await status(taskId);
        return r.status === 200 && r.body.state === 'done' && r.body.sent === 9
          ? r.body
          : undefined;
      },
      { what: 'the task done and its pushes delivered', timeoutMs: 60_000 },
    );
    expect(final).toEqual({
      taskId,
      state: 'done',
      partitions: { done: 12, total: 12 },
      targeted: 10,
      decided: 10,
      sent: 9,
      suppressed: 1,
      failed: 0,
    });
    // What the provider got: one request per pushed device (the fake is this spec's own).
    expect(fake.received).toHaveLength(9);
  }, 90_000);

  it('a scheduled task is scheduled, a stopped one stopped; unknown and malformed ids', async () => {
    const sendAt = new Date(Date.now() + 3600_000).toISOString();
    const later = await post({ ...content, audience: { all: true }, options: { sendAt } });
    const { taskId } = later.body as { taskId: string };
    await waitFor(async () => (await status(taskId)).body.partitions?.total === 12, {
      what: 'the scheduled checkpoints stored',
      timeoutMs: 30_000,
    });
    await waitFor(async () => (await status(taskId)).body.state === 'scheduled', {
      what: 'scheduled',
      timeoutMs: 10_000,
    });
    const del = await request(routing.getHttpServer())
      .delete(`/v1/apps/${APP}/pushes/${taskId}`)
      .set(AUTH);
    expect(del.status).toBe(202);
    const stopped = await waitFor(
      async () => {
        const r = await status(taskId);
        return r.body.state === 'stopped' && r.body.partitions.done === 12 ? r.body : undefined;
      },
      { what: 'stopped everywhere', timeoutMs: 30_000 },
    );
    expect(stopped).toMatchObject({ decided: 0, sent: 0 });
    const unknown = await status('6f1c1b1e-3c2a-4d5e-9f00-0123456789ab');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('TASK_NOT_FOUND');
    const bad = await request(reports.getHttpServer()).get(`/v1/apps/${APP}/pushes/nope`).set(AUTH);
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('taskId');
  }, 90_000);
});
