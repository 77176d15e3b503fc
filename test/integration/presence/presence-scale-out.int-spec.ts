import type { INestApplication } from '@nestjs/common';
import { TOPICS, type PresenceDeviceEvent, type PresenceUserState } from '@app/contracts';
import { EventProducer, outbound } from '@app/kafka';
import { testKafka, testTenant, TopicRecorder, uniqueId, waitFor } from '@app/testing';
import type { Kafka } from 'kafkajs';
import request from 'supertest';
import { partitionOf } from '@apps/presence/presence/partition.util';
import { PresenceService } from '@apps/presence/presence/presence.service';
import { startPresence } from './presence.helpers';

/**
 * Two instances in one group: each owns half the partitions and answers GET for any user, from
 * memory for its own and from the compacted topic for the other's; when one stops, the other
 * takes its partitions over with their state.
 */
describe('presence with two instances', () => {
  const tenant = testTenant('presence-it');
  const env = { PUSH_APPS_FILE: tenant.file, PRESENCE_CONSUMER_GROUP: uniqueId('presence-it') };
  const auth = { authorization: `Bearer ${tenant.apiKey}` };
  let kafka: Kafka;
  let producer: EventProducer;
  let snapshots: TopicRecorder;
  let a: INestApplication;
  let b: INestApplication;

  const owned = (app: INestApplication) =>
    app
      .get(PresenceService)
      .store.owned()
      .map((p) => p.partition);
  const get = (app: INestApplication, userId: string) =>
    request(app.getHttpServer()).get(`/v1/apps/${tenant.appId}/users/${userId}/presence`).set(auth);
  const ready = async (app: INestApplication) =>
    (await request(app.getHttpServer()).get('/health/ready')).status === 200;

  beforeAll(async () => {
    kafka = testKafka();
    producer = new EventProducer(kafka);
    await producer.connect();
    snapshots = await TopicRecorder.start(kafka, TOPICS.presenceUserState.name, {
      keyPrefix: `${tenant.appId}:`,
    });
    a = await startPresence(env);
    b = await startPresence(env);
    await waitFor(
      async () =>
        (await ready(a)) &&
        (await ready(b)) &&
        owned(a).length > 0 &&
        owned(b).length > 0 &&
        owned(a).length + owned(b).length === 12,
      { what: 'both instances ready with half the partitions each', timeoutMs: 90000 },
    );
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await snapshots?.stop();
    await producer?.disconnect();
  });

  it('answers GET for any user from either instance, and hands state over when one stops', async () => {
    const users = Array.from({ length: 24 }, () => uniqueId('u'));
    await producer.send(
      users.map((userId, i) =>
        outbound(TOPICS.presenceDeviceEvent, {
          appId: tenant.appId,
          userId,
          deviceId: 'd1',
          platform: 'ios',
          type: 'background',
          unreadCount: i,
          at: new Date().toISOString(),
        } satisfies PresenceDeviceEvent),
      ),
    );
    const published = await waitFor(
      () => {
        const byUser = new Map(
          snapshots.records<PresenceUserState>().map((r) => [r.key!, r.value]),
        );
        const all = users.map((u) => byUser.get(`${tenant.appId}:${u}`));
        return all.every(Boolean) ? (all as PresenceUserState[]) : undefined;
      },
      { what: 'a snapshot for every user', timeoutMs: 30000 },
    );

    const sources = { memory: 0, changelog: 0 };
    for (const [i, user] of users.entries()) {
      const [fromA, fromB] = await Promise.all([get(a, user), get(b, user)]);
      for (const res of [fromA, fromB]) {
        expect(res.status).toBe(200);
        expect(res.body).toEqual(published[i]);
        sources[res.headers['x-presence-source'] as 'memory' | 'changelog']++;
      }
      // Exactly one of the two holds the user.
      expect(
        [fromA, fromB].filter((r) => r.headers['x-presence-source'] === 'memory'),
      ).toHaveLength(1);
    }
    expect(sources).toEqual({ memory: users.length, changelog: users.length });

    // A user nobody knows, on a partition of B, asked of A: the scan finds nothing, 404.
    let stranger = uniqueId('nobody');
    while (owned(a).includes(partitionOf(`${tenant.appId}:${stranger}`, 12))) {
      stranger = uniqueId('nobody');
    }
    const missing = await get(a, stranger);
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('PRESENCE_UNKNOWN');

    // A stops: B takes every partition over, restoring A's users from the changelog.
    await a.close();
    a = undefined as unknown as INestApplication;
    await waitFor(async () => owned(b).length === 12 && (await ready(b)), {
      what: 'B owns every partition',
      timeoutMs: 90000,
    });
    for (const [i, user] of users.entries()) {
      const res = await get(b, user);
      expect(res.headers['x-presence-source']).toBe('memory');
      expect(res.body).toEqual(published[i]);
    }
  });
});
