import type { INestApplication } from '@nestjs/common';
import { startDisposableBroker, startService, waitFor, type DisposableBroker } from '@app/testing';
import request from 'supertest';
import { SERVICES } from './services';

/**
 * `/health/ready` against real dependencies: 200 while they answer, 503 naming Kafka while the
 * broker is down, 200 again once it is back. The broker here is one of the test's own.
 */
describe('readiness follows the real broker', () => {
  let broker: DisposableBroker;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    broker = await startDisposableBroker();
  });

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await broker?.destroy();
  });

  const env = () => ({
    ...process.env,
    KAFKA_BROKERS: broker.brokers.join(','),
    LOG_LEVEL: 'warn',
  });

  it('flips to 503 when Kafka stops and back to 200 when it returns (routing and token-registry)', async () => {
    const routing = await startService({ ...SERVICES.routing, env: env() });
    apps.push(routing);
    const registry = await startService({ ...SERVICES.tokenRegistry, env: env() });
    apps.push(registry);
    const ready = (app: INestApplication) => request(app.getHttpServer()).get('/health/ready');

    // Routing restores its state before it is ready: wait for that first.
    for (const app of apps) {
      const res = await waitFor(
        async () => {
          const r = await ready(app);
          return r.status === 200 ? r : undefined;
        },
        { what: 'ready with every dependency up', timeoutMs: 60000 },
      );
      expect(res.body.details.kafka.status).toBe('up');
    }
    expect((await ready(registry)).body.details.database.status).toBe('up');
    expect((await request(routing.getHttpServer()).get('/health/live')).status).toBe(200);

    broker.stop();
    for (const app of apps) {
      const res = await waitFor(
        async () => {
          const r = await ready(app);
          return r.status === 503 ? r : undefined;
        },
        { what: '503 with Kafka down', timeoutMs: 30000 },
      );
      expect(res.body.error.kafka.status).toBe('down');
      expect(res.body.error.kafka.message).toEqual(expect.any(String));
    }
    // Liveness checks nothing external: it stays 200.
    expect((await request(routing.getHttpServer()).get('/health/live')).status).toBe(200);
    // The database is still up: only Kafka is named.
    expect((await ready(registry)).body.details.database.status).toBe('up');

    broker.start();
    for (const app of apps) {
      await waitFor(async () => (await ready(app)).status === 200, {
        what: '200 after Kafka is back',
        timeoutMs: 60000,
      });
    }
  });

  it('serves Prometheus metrics', async () => {
    const res = await request(apps[0].getHttpServer()).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.text).toContain('process_cpu_user_seconds_total');
  });
});
