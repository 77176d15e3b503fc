import type { INestApplication } from '@nestjs/common';
import { TOPICS, type TokenUserDevices } from '@app/contracts';
import { EventProducer, recordLimits } from '@app/kafka';
import { testKafka, TopicRecorder, uniqueId, waitFor } from '@app/testing';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { OutboxRelay } from '@apps/token-registry/outbox/outbox.relay';
import { DEMO, migratedDataSource, startRegistry } from '../token-registry/registry.fixture';

// kafkajs's own murmur2 (the Java client's), to put users on one partition on purpose.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const murmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (
  key: string,
) => number;
const partitionOf = (key: string, partitions = 12) => (murmur2(key) & 0x7fffffff) % partitions;

/** `n` new user ids whose snapshots land on the same partition of token.user-devices.v1. */
function usersOnOnePartition(n: number): string[] {
  const out: string[] = [];
  const target = partitionOf(`demo:${uniqueId('p')}`);
  while (out.length < n) {
    const u = uniqueId('big');
    if (partitionOf(`demo:${u}`) === target) out.push(u);
  }
  return out;
}

/** 250 conversation options with the longest keys the id rules allow (about 40 KB of JSON). */
const manyOptions = (from: number) =>
  Object.fromEntries(
    Array.from({ length: 250 }, (_, i) => [
      `group:${String(from + i).padStart(6, '0')}${'g'.repeat(122)}`,
      'receive_not_notify',
    ]),
  );

/** 1,000 options (the cap) in four requests (a body is limited to 64 KB): ~160 KB of snapshot. */
async function fillOptions(app: INestApplication, userId: string): Promise<request.Response> {
  for (const from of [0, 250, 500, 750]) {
    const res = await request(app.getHttpServer())
      .put(`/v1/apps/demo/users/${userId}/settings`)
      .set('authorization', DEMO.auth)
      .send({ conversations: manyOptions(from) });
    if (res.status !== 200) return res;
  }
  return request(app.getHttpServer())
    .get(`/v1/apps/demo/users/${userId}/settings`)
    .set('authorization', DEMO.auth);
}

/**
 * The relay stall of the hardening issue: once one partition's share of a round exceeded 1 MB,
 * every round rolled back, the other partitions' snapshots were published again every round, and
 * the pending gauge read 0. Now a round's records go out in produce calls that fit.
 */
describe('registry outbox relay: a round larger than the broker limit', () => {
  let ds: DataSource;
  let app: INestApplication;

  beforeAll(async () => {
    ds = await migratedDataSource();
    app = await startRegistry({
      REGISTRY_OUTBOX_RELAY: 'false',
      REGISTRY_INVALIDATION_CONSUMER: 'false',
    });
  });

  afterAll(async () => {
    await app?.close();
    await ds?.destroy();
  });

  it('publishes a backlog of 1.3 MB on one partition in one round, each snapshot once', async () => {
    const kafka = testKafka('relay-stall');
    const tail = await TopicRecorder.start(kafka, TOPICS.tokenUserDevices.name);
    const users = usersOnOnePartition(8);
    const other = uniqueId('small');
    for (const u of users) expect((await fillOptions(app, u)).status).toBe(200);
    await request(app.getHttpServer())
      .put(`/v1/apps/demo/users/${other}/settings`)
      .set('authorization', DEMO.auth)
      .send({ conversations: { 'c2c:x': 'receive_not_notify' } })
      .expect(200);
    const relay = new OutboxRelay(ds, () => new EventProducer(kafka), {
      batchSize: 200,
      pollMs: 50,
      retentionHours: 24,
    });
    try {
      relay.start();
      for (const u of [...users, other]) {
        await waitFor(
          () =>
            tail
              .forKey<TokenUserDevices>(`demo:${u}`)
              .some((m) => Object.keys(m.value.settings.conversations).length > 0),
          { what: `${u} published`, timeoutMs: 30000 },
        );
      }
      await new Promise((r) => setTimeout(r, 500));
      const bytes = tail
        .records()
        .filter((m) => users.some((u) => m.key === `demo:${u}`))
        .reduce((n, m) => n + (m.bytes?.length ?? 0), 0);
      expect(bytes).toBeGreaterThan(recordLimits.maxBytes(TOPICS.tokenUserDevices));
      // Each user's newest snapshot once (older unsent ones are superseded): no round was rolled
      // back and published again.
      for (const u of [...users, other]) expect(tail.forKey(`demo:${u}`)).toHaveLength(1);
      const [{ n }] = await ds.query<Array<{ n: string }>>(
        `SELECT count(*) AS n FROM registry_outbox WHERE app_id = 'demo' AND user_id = ANY($1) AND sent_at IS NULL`,
        [[...users, other]],
      );
      expect(Number(n)).toBe(0);
    } finally {
      await relay.stop();
      await tail.stop();
    }
  });

  it('refuses with 413 a change whose snapshot could never be published', async () => {
    const u = uniqueId('huge');
    recordLimits.set(TOPICS.tokenUserDevices.name, 100_000);
    try {
      const res = await fillOptions(app, u);
      expect(res.status).toBe(413);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 413, code: 'SNAPSHOT_TOO_LARGE' });
      expect(res.body.detail).toMatch(/100000 bytes/);
      const rows = await ds.query<unknown[]>(
        `SELECT 1 FROM registry_outbox WHERE app_id = 'demo' AND user_id = $1`,
        [u],
      );
      expect(rows).toHaveLength(2); // two requests fitted; the third was refused, not stored
    } finally {
      recordLimits.reset();
    }
  });
});
