import type { INestApplication } from '@nestjs/common';
import { TOPICS, type PresenceDeviceEvent } from '@app/contracts';
import { EventProducer, ensureTopics, outbound } from '@app/kafka';
import {
  startDisposableBroker,
  testTenant,
  uniqueId,
  waitFor,
  type DisposableBroker,
} from '@app/testing';
import { Kafka, logLevel } from 'kafkajs';
import request from 'supertest';
import { startPresence } from './presence.helpers';

/**
 * Presence on a broker of its own (port 19292), which the test takes away: the service boots
 * while Kafka is down, becomes ready once it is back, and keeps its state through an outage.
 */
describe('presence through a broker outage', () => {
  const PORT = 19292;
  const tenant = testTenant('presence-it');
  const env = {
    KAFKA_BROKERS: `127.0.0.1:${PORT}`,
    PUSH_APPS_FILE: tenant.file,
    PRESENCE_CONSUMER_GROUP: uniqueId('presence-outage'),
  };
  const auth = { authorization: `Bearer ${tenant.apiKey}` };
  let broker: DisposableBroker;
  let app: INestApplication | undefined;
  let producer: EventProducer | undefined;

  beforeAll(async () => {
    broker = await startDisposableBroker(PORT);
    const kafka = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, { partitions: 12, replicationFactor: 1 });
    await admin.disconnect();
    producer = new EventProducer(kafka);
  });

  afterAll(async () => {
    await app?.close();
    await producer?.disconnect();
    await broker?.destroy();
  });

  const ready = async () => (await request(app!.getHttpServer()).get('/health/ready')).status;
  const presenceOf = (userId: string) =>
    request(app!.getHttpServer())
      .get(`/v1/apps/${tenant.appId}/users/${userId}/presence`)
      .set(auth);
  const send = (userId: string, type: PresenceDeviceEvent['type'], unreadCount?: number) =>
    producer!.send([
      outbound(TOPICS.presenceDeviceEvent, {
        appId: tenant.appId,
        userId,
        deviceId: 'phone',
        platform: 'android',
        type,
        at: new Date().toISOString(),
        ...(unreadCount === undefined ? {} : { unreadCount }),
      }),
    ]);

  it('boots without Kafka, becomes ready when it returns, and keeps its state through an outage', async () => {
    broker.stop();
    // The broker is down on purpose (and a fresh one of this test's own: no history to skip).
    app = await startPresence(env, { newGroupAtEnd: false });
    const down = await request(app.getHttpServer()).get('/health/ready');
    expect(down.status).toBe(503);

    broker.start();
    await waitFor(async () => (await ready()) === 200, {
      what: 'ready once Kafka is up',
      timeoutMs: 90000,
    });
    const user = uniqueId('u');
    await send(user, 'background', 4);
    const before = await waitFor(
      async () => {
        const r = await presenceOf(user);
        return r.status === 200 ? r.body : undefined;
      },
      { what: 'state of the user', timeoutMs: 30000 },
    );
    expect(before).toMatchObject({
      version: 1,
      devices: [expect.objectContaining({ unreadCount: 4 })],
    });

    broker.stop();
    await waitFor(async () => (await ready()) === 503, {
      what: '503 while Kafka is down',
      timeoutMs: 30000,
    });

    broker.start();
    await waitFor(async () => (await ready()) === 200, { what: 'ready again', timeoutMs: 90000 });
    await send(user, 'foreground');
    const after = await waitFor(
      async () => {
        const r = await presenceOf(user);
        return r.status === 200 && r.body.version === 2 ? r.body : undefined;
      },
      { what: 'the next change builds on the state from before the outage', timeoutMs: 60000 },
    );
    expect(after.devices[0]).toMatchObject({ status: 'online', unreadCount: null });
  });
});
