import type { INestApplication } from '@nestjs/common';
import { TOPICS, type TokenInvalidated } from '@app/contracts';
import { EventProducer, KafkaConsumerGroups, outbound } from '@app/kafka';
import { apnsToken, FaultProxy, testKafka, TopicRecorder, uniqueId, waitFor } from '@app/testing';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { INVALIDATION_GROUP } from '@apps/token-registry/invalidation/invalidation.consumer';
import { databaseUrl, DEMO, migratedDataSource, startRegistry } from './registry.fixture';

/** PostgreSQL goes away under a running registry (a proxy is cut), then comes back. */
describe('token-registry through a database outage', () => {
  let ds: DataSource;
  let app: INestApplication;
  let producer: EventProducer;
  let letters: TopicRecorder;
  const kafka = testKafka('registry-db-outage');
  const target = new URL(databaseUrl());
  const proxy = new FaultProxy({ host: target.hostname, port: Number(target.port || 5432) });

  beforeAll(async () => {
    ds = await migratedDataSource();
    letters = await TopicRecorder.start(kafka, TOPICS.deadLetter.name);
    producer = new EventProducer(kafka);
    await proxy.restore();
    app = await startRegistry({ DATABASE_URL: proxy.via(databaseUrl()) });
  });

  afterAll(async () => {
    await proxy.restore();
    await app?.close();
    await proxy.cutNow();
    await producer?.disconnect();
    await letters?.stop();
    await ds?.destroy();
  });

  const stored = async (userId: string) =>
    ds.query<Array<{ device_id: string }>>(
      `SELECT device_id FROM registry_devices WHERE app_id = 'demo' AND user_id = $1`,
      [userId],
    );

  it('answers 503 while it is away, and applies an invalidation once it is back (no dead letter)', async () => {
    const user = uniqueId('dbout');
    const token = apnsToken();
    const put = () =>
      request(app.getHttpServer())
        .put(`/v1/apps/demo/users/${user}/devices/d1`)
        .set('authorization', DEMO.auth)
        .send({ platform: 'ios', token });
    await put().expect(200);
    const consumer = app.get(KafkaConsumerGroups).runners(INVALIDATION_GROUP)[0];
    await waitFor(() => consumer.isHealthy(), { what: 'consumer running', timeoutMs: 60000 });

    await proxy.cutNow();
    const down = await put();
    expect(down.status).toBe(503);
    expect(down.headers['content-type']).toContain('application/problem+json');
    expect(down.body.code).toBe('DATABASE_UNAVAILABLE');

    await new Promise((r) => setTimeout(r, 20));
    const value: TokenInvalidated = {
      appId: 'demo',
      userId: user,
      deviceId: 'd1',
      provider: 'apns',
      token,
      reason: 'unregistered',
      providerTimestamp: new Date().toISOString(),
      at: new Date().toISOString(),
    };
    await producer.send([outbound(TOPICS.tokenInvalidated, value)]);
    // The consumer cannot apply it: it keeps retrying, it does not give up on the record.
    await new Promise((r) => setTimeout(r, 4000));
    expect(await stored(user)).toHaveLength(1);

    await proxy.restore();
    await waitFor(async () => (await stored(user)).length === 0, {
      what: 'invalidation applied after the database returned',
      timeoutMs: 60000,
    });
    expect(letters.forKey(`demo:${user}`)).toEqual([]);
    await waitFor(async () => (await put()).status === 200, { what: 'API back' });
  });
});
