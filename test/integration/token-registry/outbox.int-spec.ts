import type { INestApplication } from '@nestjs/common';
import { TOPICS, type TokenUserDevices, type TopicDefinition } from '@app/contracts';
import { EventProducer, KafkaConsumerGroups, ensureTopics } from '@app/kafka';
import {
  apnsToken,
  readFor,
  startDisposableBroker,
  testKafka,
  TopicRecorder,
  uniqueId,
  waitFor,
  type DisposableBroker,
} from '@app/testing';
import { Kafka, logLevel } from 'kafkajs';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { INVALIDATION_GROUP } from '@apps/token-registry/invalidation/invalidation.consumer';
import { OutboxRelay } from '@apps/token-registry/outbox/outbox.relay';
import { DEMO, migratedDataSource, startRegistry } from './registry.fixture';

const versionsOf = (tail: TopicRecorder, appId: string, userId: string): number[] =>
  tail.forKey<TokenUserDevices>(`${appId}:${userId}`).map((r) => r.value.version);

const register = (app: INestApplication, userId: string, deviceId: string) =>
  request(app.getHttpServer())
    .put(`/v1/apps/demo/users/${userId}/devices/${deviceId}`)
    .set('authorization', DEMO.auth)
    .send({ platform: 'ios', token: apnsToken() });

const dbVersion = async (ds: DataSource, userId: string): Promise<number> => {
  const rows = await ds.query<Array<{ version: string }>>(
    `SELECT version FROM registry_users WHERE app_id = 'demo' AND user_id = $1`,
    [userId],
  );
  return Number(rows[0]?.version ?? 0);
};

const unsent = async (ds: DataSource, users: string[]): Promise<number> => {
  const [{ n }] = await ds.query<Array<{ n: string }>>(
    `SELECT count(*) AS n FROM registry_outbox WHERE app_id = 'demo' AND user_id = ANY($1) AND sent_at IS NULL`,
    [users],
  );
  return Number(n);
};

describe('token-registry outbox relay', () => {
  let ds: DataSource;

  beforeAll(async () => {
    ds = await migratedDataSource();
  });

  afterAll(async () => {
    await ds?.destroy();
  });

  it('two relays publish every user in version order, ending on the stored version', async () => {
    const kafka = testKafka('registry-relay-test');
    const tail = await TopicRecorder.start(kafka, TOPICS.tokenUserDevices.name);
    const app = await startRegistry({
      REGISTRY_OUTBOX_RELAY: 'false',
      REGISTRY_INVALIDATION_CONSUMER: 'false',
    });
    const relays = [1, 2].map(
      () =>
        new OutboxRelay(ds, () => new EventProducer(kafka), {
          batchSize: 7,
          pollMs: 20,
          retentionHours: 24,
        }),
    );
    try {
      relays.forEach((r) => r.start());
      const users = Array.from({ length: 6 }, () => uniqueId('order'));
      // Concurrent changes per user (10 devices each, all at once) while both relays run.
      for (let round = 0; round < 3; round++) {
        await Promise.all(
          users.flatMap((u) =>
            Array.from({ length: 4 }, (_, i) => register(app, u, `d${round}-${i}`).expect(200)),
          ),
        );
      }
      for (const u of users) {
        const stored = await dbVersion(ds, u);
        expect(stored).toBe(12);
        await waitFor(() => versionsOf(tail, 'demo', u).at(-1) === stored, {
          what: `${u} published up to v${stored}`,
        });
        const seen = versionsOf(tail, 'demo', u);
        // Strictly increasing: never an older snapshot after a newer one, never one twice.
        expect(seen).toEqual([...new Set(seen)].sort((a, b) => a - b));
      }
      expect(await unsent(ds, users)).toBe(0);
    } finally {
      await Promise.all(relays.map((r) => r.stop()));
      await app.close();
      await tail.stop();
    }
  });

  describe('with a broker of its own', () => {
    let broker: DisposableBroker;
    let kafka: Kafka;

    beforeAll(async () => {
      broker = await startDisposableBroker(19192);
      kafka = new Kafka({
        clientId: 'registry-outage',
        brokers: broker.brokers,
        logLevel: logLevel.NOTHING,
      });
      const admin = kafka.admin();
      await admin.connect();
      await ensureTopics(admin, { partitions: 12, replicationFactor: 1 }, [
        TOPICS.tokenUserDevices,
        TOPICS.tokenInvalidated,
        TOPICS.deadLetter,
      ] as Array<TopicDefinition<unknown, unknown>>);
      await admin.disconnect();
    });

    afterAll(async () => {
      await broker?.destroy();
    });

    it('keeps changes while Kafka is down and publishes them, in order, after a restart', async () => {
      const env = {
        KAFKA_BROKERS: broker.brokers.join(','),
        REGISTRY_INVALIDATION_CONSUMER: 'false',
        REGISTRY_OUTBOX_POLL_MS: '50',
      };
      const tail = await TopicRecorder.start(kafka, TOPICS.tokenUserDevices.name);
      const users = [uniqueId('outage'), uniqueId('outage')];
      let app = await startRegistry(env);
      // An instance that only consumes invalidations lives through the outage: its readiness
      // must come back by itself (a consumer that crashed for good would keep it at 503).
      const observer = await startRegistry({
        KAFKA_BROKERS: broker.brokers.join(','),
        REGISTRY_OUTBOX_RELAY: 'false',
      });
      const consumer = observer.get(KafkaConsumerGroups).runners(INVALIDATION_GROUP)[0];
      const ready = async () =>
        (await request(observer.getHttpServer()).get('/health/ready')).status;
      try {
        await waitFor(() => consumer.isHealthy(), {
          what: 'invalidation consumer running',
          timeoutMs: 60000,
        });
        for (const u of users) await register(app, u, 'before').expect(200);
        await waitFor(() => users.every((u) => versionsOf(tail, 'demo', u).includes(1)), {
          what: 'v1 published before the outage',
        });
        await tail.stop();

        broker.stop();
        // The API keeps taking changes; they wait in the outbox.
        for (let i = 0; i < 4; i++) {
          for (const u of users) await register(app, u, `during-${i}`).expect(200);
        }
        expect(await unsent(ds, users)).toBeGreaterThan(0);
        await waitFor(async () => (await ready()) === 503, { what: '503 during the outage' });
        // The instance goes away while Kafka is still down: nothing is lost with it.
        await app.close();
        expect(await unsent(ds, users)).toBeGreaterThan(0);

        broker.start();
        app = await startRegistry(env);
        await waitFor(async () => (await unsent(ds, users)) === 0, {
          what: 'outbox drained after the restart',
          timeoutMs: 60000,
        });
        // Read from the start until the newest snapshots are there (a broker just restarted may
        // take a moment to serve a new consumer group).
        const after = await waitFor(
          async () => {
            const all = await tailFromStart(kafka);
            const last = (u: string) => all.filter((m) => m.key === `demo:${u}`).at(-1)?.version;
            return users.every((u) => last(u) === 5) ? all : undefined;
          },
          { what: 'v5 of both users on the topic', timeoutMs: 45000 },
        );
        for (const u of users) {
          const seen = after.filter((m) => m.key === `demo:${u}`).map((m) => m.version);
          expect(seen.at(-1)).toBe(5);
          expect(seen).toEqual([...new Set(seen)].sort((a, b) => a - b));
          expect(seen[0]).toBe(1);
        }
        await waitFor(async () => (await ready()) === 200 && consumer.isHealthy(), {
          what: 'observer ready again',
          timeoutMs: 60000,
        });
      } finally {
        await app.close();
        await observer.close();
      }
    });
  });
});

/** Everything on the disposable broker's snapshot topic (it holds only this test's records). */
async function tailFromStart(kafka: Kafka): Promise<Array<{ key: string; version: number }>> {
  const msgs = await readFor<TokenUserDevices>(kafka, TOPICS.tokenUserDevices.name, 4000);
  return msgs.map((m) => ({ key: m.key!, version: m.value.version }));
}
