import type { INestApplication } from '@nestjs/common';
import {
  TOPICS,
  type DeadLetter,
  type PresenceDeviceEvent,
  type PresenceUserState,
} from '@app/contracts';
import { EventProducer, outbound, recordLimits } from '@app/kafka';
import { testKafka, testTenant, TopicRecorder, uniqueId, waitFor } from '@app/testing';
import type { Kafka } from 'kafkajs';
import request from 'supertest';
import { partitionOf } from '@apps/presence/presence/partition.util';
import { startPresence } from './presence.helpers';

/**
 * One user reporting thousands of devices used to freeze presence: the user's snapshot grew past
 * Kafka's 1 MB record limit, its publish was retried for ever, and every user reported afterwards,
 * on that partition and (the consumer handling one batch at a time) on the others, got 404. Here,
 * against the real broker: the device cap keeps such a user's snapshot small, and a snapshot that
 * still cannot fit dead-letters that user's events while the partition, and the others, go on.
 */
describe('presence limits', () => {
  let kafka: Kafka;
  let producer: EventProducer;
  let partitions: number;

  beforeAll(async () => {
    kafka = testKafka();
    producer = new EventProducer(kafka);
    await producer.connect();
    const admin = kafka.admin();
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: [TOPICS.presenceUserState.name] });
    partitions = meta.topics[0].partitions.length;
    await admin.disconnect();
  });

  afterAll(async () => {
    await producer?.disconnect();
  });

  /** One tenant, one instance and the topic watchers of a scenario. */
  function scenario(settings: Record<string, string>) {
    const tenant = testTenant('presence-it');
    const auth = { authorization: `Bearer ${tenant.apiKey}` };
    const s = {
      tenant,
      app: undefined as unknown as INestApplication,
      snapshots: undefined as unknown as TopicRecorder,
      deadLetters: undefined as unknown as TopicRecorder,
      key: (userId: string) => `${tenant.appId}:${userId}`,
      http: () => request(s.app.getHttpServer()),
      /** A new user whose key lands on `partition` (or, with `not`, anywhere else). */
      userOn: (partition: number, not = false) => {
        for (;;) {
          const u = uniqueId('u');
          if ((partitionOf(s.key(u), partitions) === partition) !== not) return u;
        }
      },
      event: (userId: string, deviceId: string, at: number): PresenceDeviceEvent => ({
        appId: tenant.appId,
        userId,
        deviceId,
        platform: 'android',
        type: 'connected',
        at: new Date(at).toISOString(),
      }),
      latest: (userId: string) =>
        s.snapshots
          .forKey<PresenceUserState>(s.key(userId))
          .map((r) => r.value)
          .at(-1),
      lettersOf: (userId: string) =>
        s.deadLetters.forKey<DeadLetter>(s.key(userId)).map((r) => r.value),
      /** Reported over HTTP, then readable over HTTP: the partition and the instance work. */
      reportAndRead: async (userId: string) => {
        await s
          .http()
          .post(`/v1/apps/${tenant.appId}/users/${userId}/devices/phone/presence`)
          .set(auth)
          .send({ type: 'background', unreadCount: 1, platform: 'android' })
          .expect(202);
        const res = await waitFor(
          async () => {
            const r = await s
              .http()
              .get(`/v1/apps/${tenant.appId}/users/${userId}/presence`)
              .set(auth);
            return r.status === 200 ? r : undefined;
          },
          { what: `presence of ${userId} readable`, timeoutMs: 30000 },
        );
        expect(res.body.devices).toEqual([
          expect.objectContaining({ deviceId: 'phone', status: 'push_online', unreadCount: 1 }),
        ]);
      },
      getOver: (userId: string) =>
        s.http().get(`/v1/apps/${tenant.appId}/users/${userId}/presence`).set(auth),
    };
    beforeAll(async () => {
      s.snapshots = await TopicRecorder.start(kafka, TOPICS.presenceUserState.name, {
        keyPrefix: `${tenant.appId}:`,
      });
      s.deadLetters = await TopicRecorder.start(kafka, TOPICS.deadLetter.name, {
        keyPrefix: tenant.appId,
      });
      s.app = await startPresence({
        PUSH_APPS_FILE: tenant.file,
        PRESENCE_CONSUMER_GROUP: uniqueId('presence-limits'),
        ...settings,
      });
      await waitFor(async () => (await s.http().get('/health/ready')).status === 200, {
        what: 'presence ready',
        timeoutMs: 60000,
      });
    });
    afterAll(async () => {
      await s.app?.close();
      await s.snapshots?.stop();
      await s.deadLetters?.stop();
    });
    return s;
  }

  /** `n` device ids of 120 characters, in the order of their events. */
  const deviceIds = (n: number) =>
    Array.from({ length: n }, (_, i) => `${String(i).padStart(5, '0')}-${'d'.repeat(114)}`);

  describe('at the default cap (20 devices per user, as the registry)', () => {
    const s = scenario({});

    it('keeps a user reporting 3,650 devices at 20; the partition and the others go on', async () => {
      const big = uniqueId('big');
      const p = partitionOf(s.key(big), partitions);
      const ids = deviceIds(3650);
      const base = Date.now() - 60_000;
      await producer.send(
        ids.map((d, i) => outbound(TOPICS.presenceDeviceEvent, s.event(big, d, base + i))),
      );
      // Behind the 3,650 events on the same partition, and one on another partition.
      await s.reportAndRead(s.userOn(p));
      await s.reportAndRead(s.userOn(p, true));

      const last = await waitFor(
        () => {
          const l = s.latest(big);
          return l?.devices.some((d) => d.deviceId === ids.at(-1)) ? l : undefined;
        },
        { what: 'the big user published with its last device', timeoutMs: 60000 },
      );
      expect(last.devices.map((d) => d.deviceId)).toEqual(ids.slice(-20));
      // Every snapshot of the user stayed at the cap (each a few kB, far below 1 MB).
      for (const m of s.snapshots.forKey<PresenceUserState>(s.key(big))) {
        expect(m.value.devices.length).toBeLessThanOrEqual(20);
        expect(m.bytes!.length).toBeLessThan(20 * 400);
      }
      expect(s.lettersOf(big)).toEqual([]);
      const view = await s.getOver(big).expect(200);
      expect(view.body.devices).toHaveLength(20);

      const metrics = await s.http().get('/metrics').expect(200);
      const evictions = Number(
        /^push_presence_device_evictions_total\{[^}]*\} (\d+)/m.exec(metrics.text)?.[1],
      );
      expect(evictions).toBeGreaterThanOrEqual(3630);
      expect((await s.http().get('/health/ready')).status).toBe(200);
    });
  });

  describe('a snapshot that cannot fit (cap set high, the topic limit small)', () => {
    const s = scenario({ PRESENCE_MAX_DEVICES_PER_USER: '1000' });
    const LIMIT = 16384;

    beforeAll(async () => {
      // What the broker says is loaded once per process: the test's limit goes on top of it.
      await recordLimits.loadFromBroker(kafka);
      recordLimits.set(TOPICS.presenceUserState.name, LIMIT);
    });
    afterAll(() => recordLimits.reset());

    it("dead-letters that user's events with OUTPUT_TOO_LARGE; the next record and other partitions are processed", async () => {
      const big = uniqueId('big');
      const p = partitionOf(s.key(big), partitions);
      const ids = deviceIds(300); // about 300 × 330 bytes: far over 16 kB
      const base = Date.now() - 60_000;
      await producer.send(
        ids.map((d, i) => outbound(TOPICS.presenceDeviceEvent, s.event(big, d, base + i))),
      );
      const neighbour = s.userOn(p);
      await s.reportAndRead(neighbour);
      await s.reportAndRead(s.userOn(p, true));

      // Every event of the user is either in its last snapshot or dead-lettered: none is lost.
      const letters = await waitFor(
        () => {
          const l = s.lettersOf(big);
          const published = s.latest(big)?.devices.length ?? 0;
          return l.length + published >= ids.length ? l : undefined;
        },
        { what: 'every event of the big user published or dead-lettered', timeoutMs: 60000 },
      );
      expect(letters.length).toBeGreaterThan(0);
      for (const l of letters) {
        expect(l.error.code).toBe('OUTPUT_TOO_LARGE');
        expect(l.error.message).toContain(TOPICS.presenceUserState.name);
        expect(l.source).toMatchObject({ topic: TOPICS.presenceDeviceEvent.name, partition: p });
      }
      const lettered = letters.map((l) => JSON.parse(l.value!) as PresenceDeviceEvent);
      const published = s.latest(big)?.devices.map((d) => d.deviceId) ?? [];
      expect([...published, ...lettered.map((e) => e.deviceId)].sort()).toEqual(ids);
      for (const m of s.snapshots.forKey(s.key(big))) expect(m.bytes!.length).toBeLessThan(LIMIT);

      // The partition is not stalled: readiness stays up, and later records are applied.
      expect((await s.http().get('/health/ready')).status).toBe(200);
      await s.reportAndRead(s.userOn(p));
    });
  });
});
