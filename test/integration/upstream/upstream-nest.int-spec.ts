import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientKafka } from '@nestjs/microservices';
import { Partitioners } from 'kafkajs';
import { lastValueFrom } from 'rxjs';
import request from 'supertest';
import {
  DeadLetterSchema,
  HEADERS,
  ImGroupMembersSchema,
  ImMessageSentSchema,
  TOPICS,
} from '@app/contracts';
import { EventProducer, outbound } from '@app/kafka';
import { waitFor } from '@app/testing';
import { UpstreamModule } from '../../../examples/upstream-nest/src/upstream.module';
import { IM_KAFKA } from '../../../examples/upstream-nest/src/im-kafka.options';
import {
  EVENT_TYPES,
  IM_TOPICS,
  membershipKey,
  messageKey,
  type ImGroupMembers,
  type ImMessageSent,
} from '../../../examples/upstream-nest/src/im-events';
import { APNS_TOPIC, UPSTREAM_APP, UpstreamWorld, type ReadRecord } from './upstream-world';

const APP = UPSTREAM_APP;

/**
 * The upstream example (examples/upstream-nest: Nest's own ClientKafka, `producerOnlyMode`,
 * murmur2 partitioner, idempotent, acks=all) in this process, publishing a group membership and
 * three messages over its HTTP endpoints; the five services as processes on a broker of their
 * own, the fake APNs and FCM. Its messages must come out as pushes with the right alert and badge,
 * its records must carry the contract's keys and headers (the correlation id follows the push),
 * and for the same key ClientKafka must pick the partition number the platform's own
 * EventProducer picks: read back from the broker, not recomputed.
 */
describe('upstream example: Nest ClientKafka → pushes', () => {
  const world = new UpstreamWorld();
  let upstream: INestApplication;
  const u = (name: string) => `${name}-${world.run}`;
  const alice = u('alice');
  const bob = u('bob');
  const carol = u('carol');
  const dave = u('dave');
  const group = u('hikers');
  const tokens = {
    bobIphone: randomBytes(32).toString('hex'),
    carolIphone: randomBytes(32).toString('hex'),
    bobPixel: `fcm-${world.run}-bob-${randomBytes(16).toString('base64url')}`,
    davePixel: `fcm-${world.run}-dave-${randomBytes(16).toString('base64url')}`,
  };
  const sentAt = () => new Date().toISOString();
  const messages: Record<'m1' | 'm2' | 'm3', ImMessageSent> = {
    m1: {
      appId: APP,
      messageId: u('m1'),
      sentAt: sentAt(),
      conversation: { type: 'c2c', id: alice },
      sender: { userId: alice, nickname: 'Alice' },
      recipients: [bob],
      elements: [{ type: 'text', text: 'Look at this' }, { type: 'image' }],
      ttlSeconds: 3600,
    },
    m2: {
      appId: APP,
      messageId: u('m2'),
      sentAt: sentAt(),
      conversation: { type: 'group', id: group, name: 'Weekend hikers' },
      sender: { userId: alice, nickname: 'Alice', nameCard: 'Ali' },
      recipients: null,
      elements: [{ type: 'text', text: 'Trail at 9?' }],
      ttlSeconds: 3600,
    },
    m3: {
      appId: APP,
      messageId: u('m3'),
      sentAt: sentAt(),
      conversation: { type: 'c2c', id: carol },
      sender: { userId: carol, nickname: 'Carol' },
      recipients: [dave],
      elements: [{ type: 'text', text: 'See you there' }],
      ttlSeconds: 3600,
    },
  };
  const membership: ImGroupMembers = {
    appId: APP,
    groupId: group,
    members: [alice, bob, carol, dave],
    version: 1,
  };
  const correlationOf = (id: string) => `corr-${id}`;
  /** Topics of the co-partitioning check, one per producer, with the contract topics' count. */
  const producers = ['example', 'nest-defaults', 'platform', 'legacy'] as const;
  const topicOf = Object.fromEntries(
    producers.map((n) => [n, `upstream.copartition-${n}-${world.run}.v1`]),
  ) as Record<(typeof producers)[number], string>;
  let partitions = 0;

  beforeAll(async () => {
    await world.start();
    upstream = await NestFactory.create(UpstreamModule.forRoot({ brokers: world.brokers }), {
      logger: ['error', 'warn'],
    });
    await upstream.init();
    // Created now, so that their leaders are known by the time the check writes to them.
    const admin = world.kafka.admin();
    await admin.connect();
    try {
      const [meta] = (await admin.fetchTopicMetadata({ topics: [TOPICS.imMessageSent.name] }))
        .topics;
      partitions = meta.partitions.length;
      await admin.createTopics({
        waitForLeaders: true,
        topics: producers.map((n) => ({ topic: topicOf[n], numPartitions: partitions })),
      });
    } finally {
      await admin.disconnect();
    }
  }, 120000);

  afterAll(async () => {
    await upstream?.close();
    await world.stop();
  }, 60000);

  it('the devices and their presence reach the topics routing reads', async () => {
    const devices: Array<[string, string, object]> = [
      [bob, 'ios-1', { platform: 'ios', token: tokens.bobIphone, topic: APNS_TOPIC }],
      [bob, 'android-1', { platform: 'android', token: tokens.bobPixel }],
      [carol, 'ios-1', { platform: 'ios', token: tokens.carolIphone, topic: APNS_TOPIC }],
      [dave, 'android-1', { platform: 'android', token: tokens.davePixel }],
    ];
    for (const [user, device, body] of devices) {
      const r = await world.api(
        'token-registry',
        'PUT',
        `/v1/apps/${APP}/users/${user}/devices/${device}`,
        body,
      );
      expect(r.status).toBe(200);
    }
    // Bob's app shows 3 unread on both devices, Carol's none; Dave's presence is unknown.
    for (const [user, device, unreadCount] of [
      [bob, 'ios-1', 3],
      [bob, 'android-1', 3],
      [carol, 'ios-1', 0],
    ] as const) {
      const r = await world.api(
        'presence',
        'POST',
        `/v1/apps/${APP}/users/${user}/devices/${device}/presence`,
        { type: 'background', unreadCount },
      );
      expect(r.status).toBe(202);
    }
    const want = [`${APP}:${bob}`, `${APP}:${carol}`, `${APP}:${dave}`];
    await world.read([TOPICS.tokenUserDevices.name, TOPICS.presenceUserState.name], (rs) => {
      const has = (topic: string, key: string) =>
        rs.some((r) => r.topic === topic && r.key === key);
      return (
        want.every((k) => has(TOPICS.tokenUserDevices.name, k)) &&
        want.slice(0, 2).every((k) => has(TOPICS.presenceUserState.name, k))
      );
    });
    // Decide reads them as they come; a moment for it to hold them before the first intent.
    await new Promise((r) => setTimeout(r, 1000));
  });

  it('publishes the membership and the messages through ClientKafka, with the contract keys and headers', async () => {
    const http = () => request(upstream.getHttpServer());
    const m = await http()
      .put(`/im/apps/${APP}/groups/${group}/members`)
      .set('x-correlation-id', correlationOf(group))
      .send({ members: membership.members, version: membership.version });
    expect(m.status).toBe(200);
    for (const message of Object.values(messages)) {
      const r = await http()
        .post('/im/messages')
        .set('x-correlation-id', correlationOf(message.messageId))
        .send(message);
      expect(r.status).toBe(202);
      expect(r.body).toMatchObject({
        messageId: message.messageId,
        correlationId: correlationOf(message.messageId),
      });
    }

    const records = await world.read(
      [TOPICS.imMessageSent.name, TOPICS.imGroupMembers.name],
      (rs) => rs.length >= 4,
    );
    expect(records).toHaveLength(4);
    for (const r of records) {
      const json = JSON.parse(r.value!) as unknown;
      const def =
        r.topic === TOPICS.imMessageSent.name ? TOPICS.imMessageSent : TOPICS.imGroupMembers;
      const schema =
        r.topic === TOPICS.imMessageSent.name ? ImMessageSentSchema : ImGroupMembersSchema;
      const parsed = schema.safeParse(json);
      expect(parsed.success).toBe(true);
      // The key is the platform's key function of the value.
      expect(r.key).toBe((def.key as (v: unknown) => string)(parsed.data));
      const id = r.topic === TOPICS.imMessageSent.name ? (json as ImMessageSent).messageId : group;
      expect(r.headers).toEqual({
        [HEADERS.contentType]: 'application/json',
        [HEADERS.eventType]: def.eventType,
        [HEADERS.correlationId]: correlationOf(id),
        [HEADERS.traceparent]: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/),
      });
      // Nest adds kafka_correlationId / kafka_replyTopic only to request-response `send`.
      expect(Object.keys(r.headers).filter((h) => h.startsWith('kafka_'))).toEqual([]);
    }
    // The example's copies of the contract agree with the platform's.
    expect(IM_TOPICS).toEqual({
      messageSent: TOPICS.imMessageSent.name,
      groupMembers: TOPICS.imGroupMembers.name,
    });
    expect(EVENT_TYPES[IM_TOPICS.messageSent]).toBe(TOPICS.imMessageSent.eventType);
    expect(EVENT_TYPES[IM_TOPICS.groupMembers]).toBe(TOPICS.imGroupMembers.eventType);
    // The group's membership sits on the partition of the group's messages.
    const partitionOf = (topic: string, key: string) =>
      records.find((r) => r.topic === topic && r.key === key)?.partition;
    expect(partitionOf(TOPICS.imGroupMembers.name, membershipKey(membership))).toBe(
      partitionOf(TOPICS.imMessageSent.name, messageKey(messages.m2)),
    );
  });

  it('its messages become pushes at the fake APNs and FCM, with the alert and badge', async () => {
    // Per device, in the order the pushes arrived: the badge counts up from the reported unread
    // count (unknown presence and Carol's 0: from 0).
    const want = {
      apns: {
        [tokens.bobIphone]: [
          { body: 'Look at this[Image]', title: 'Alice', thread: `c2c:${alice}` },
          { body: 'Ali: Trail at 9?', title: 'Weekend hikers', thread: `group:${group}` },
        ],
        [tokens.carolIphone]: [
          { body: 'Ali: Trail at 9?', title: 'Weekend hikers', thread: `group:${group}` },
        ],
      },
      fcm: {
        [tokens.bobPixel]: [
          { body: 'Look at this[Image]', title: 'Alice' },
          { body: 'Ali: Trail at 9?', title: 'Weekend hikers' },
        ],
        [tokens.davePixel]: [
          { body: 'Ali: Trail at 9?', title: 'Weekend hikers' },
          { body: 'See you there', title: 'Carol' },
        ],
      },
    };
    const firstBadge: Record<string, number> = {
      [tokens.bobIphone]: 4,
      [tokens.bobPixel]: 4,
      [tokens.carolIphone]: 1,
      [tokens.davePixel]: 1,
    };
    const apnsTo = (token: string) =>
      world.apns.received.filter((r) => r.token === token && r.status === 200);
    const fcmTo = (token: string) =>
      world.fcm.received.filter((r) => r.token === token && r.httpStatus === 200);
    await waitFor(
      () =>
        Object.entries(want.apns).every(([t, w]) => apnsTo(t).length >= w.length) &&
        Object.entries(want.fcm).every(([t, w]) => fcmTo(t).length >= w.length),
      { what: 'the pushes at the fakes', timeoutMs: 30000, intervalMs: 250 },
    );

    for (const [token, expected] of Object.entries(want.apns)) {
      const got = apnsTo(token).map((r) => r.payload.aps as Record<string, unknown>);
      expect(got).toHaveLength(expected.length);
      expect(got.map((aps) => aps.badge)).toEqual(expected.map((_, i) => firstBadge[token] + i));
      expect(
        [...got]
          .map((aps) => ({
            ...(aps.alert as { title: string; body: string }),
            thread: aps['thread-id'],
          }))
          .sort((a, b) => a.body.localeCompare(b.body)),
      ).toEqual([...expected].sort((a, b) => a.body.localeCompare(b.body)));
    }
    for (const [token, expected] of Object.entries(want.fcm)) {
      const got = fcmTo(token).map((r) => r.message);
      expect(got).toHaveLength(expected.length);
      const count = (m: Record<string, unknown>) =>
        (m.android as { notification: { notification_count?: number } }).notification
          .notification_count;
      expect(got.map(count)).toEqual(expected.map((_, i) => firstBadge[token] + i));
      expect(
        got
          .map((m) => m.notification as { title: string; body: string })
          .sort((a, b) => a.body.localeCompare(b.body)),
      ).toEqual([...expected].sort((a, b) => a.body.localeCompare(b.body)));
    }
    // Nothing for the sender, nothing twice.
    expect(world.apns.received).toHaveLength(3);
    expect(world.fcm.received).toHaveLength(4);
  });

  it('each push request carries the correlation id the example put on its message', async () => {
    const requests = await world.read(
      [TOPICS.apnsRequest.name, TOPICS.fcmRequest.name],
      (rs) => rs.length >= 7,
    );
    expect(requests).toHaveLength(7);
    for (const r of requests) {
      const { messageId } = JSON.parse(r.value!) as { messageId: string };
      expect(r.headers[HEADERS.correlationId]).toBe(correlationOf(messageId));
    }
  });

  it('ClientKafka picks the partition the platform picks for every key, measured on the broker', async () => {
    // The same values through four producers, each into a topic of its own with the partition
    // count of the contract topics: the example's ClientKafka, ClientKafka with Nest's defaults
    // (no producer options), the platform's EventProducer (key from the platform's own key
    // functions), and kafkajs's LegacyPartitioner, to show that the check can fail.
    const sample = [...Object.values(messages), membership, ...copartitionSample(world.run)];
    const keyOf = (v: ImMessageSent | ImGroupMembers) =>
      'messageId' in v ? messageKey(v) : membershipKey(v);
    const nestMessages = sample.map((value) => ({ key: keyOf(value), value }));

    const example = upstream.get<ClientKafka>(IM_KAFKA);
    await lastValueFrom(example.emitBatch(topicOf.example, { messages: nestMessages }));

    const defaults = new ClientKafka({
      client: { clientId: `nest-defaults-${world.run}`, brokers: world.brokers },
      producerOnlyMode: true,
    });
    try {
      await lastValueFrom(defaults.emitBatch(topicOf['nest-defaults'], { messages: nestMessages }));
    } finally {
      await defaults.close();
    }

    const producer = new EventProducer(world.kafka);
    try {
      await producer.send(
        sample.map((value) =>
          'messageId' in value
            ? outbound(
                { ...TOPICS.imMessageSent, name: topicOf.platform },
                ImMessageSentSchema.parse(value),
              )
            : outbound(
                { ...TOPICS.imGroupMembers, name: topicOf.platform },
                ImGroupMembersSchema.parse(value),
              ),
        ),
      );
    } finally {
      await producer.disconnect();
    }

    const legacy = world.kafka.producer({ createPartitioner: Partitioners.LegacyPartitioner });
    await legacy.connect();
    try {
      await legacy.send({
        topic: topicOf.legacy,
        messages: nestMessages.map((m) => ({ key: m.key, value: JSON.stringify(m.value) })),
      });
    } finally {
      await legacy.disconnect();
    }

    const read = await world.read(
      Object.values(topicOf),
      (rs) => rs.length >= producers.length * sample.length,
    );
    /** Each key's partition in a topic (a group's membership and messages share their key). */
    const partitionsBy = (topic: string) => {
      const byKey = new Map<string, Set<number>>();
      for (const r of read.filter((x) => x.topic === topic)) {
        byKey.set(r.key!, (byKey.get(r.key!) ?? new Set()).add(r.partition));
      }
      for (const [key, set] of byKey) {
        expect({ key, partitions: set.size }).toEqual({ key, partitions: 1 });
      }
      return new Map([...byKey].map(([key, set]) => [key, [...set][0]]));
    };
    const platform = partitionsBy(topicOf.platform);
    const keys = [...new Set(sample.map(keyOf))];
    expect(platform.size).toBe(keys.length);
    // The platform's EventProducer keyed every value as the example does.
    expect([...platform.keys()].sort()).toEqual([...keys].sort());
    for (const n of ['example', 'nest-defaults'] as const) {
      const nest = partitionsBy(topicOf[n]);
      const differing = keys.filter((k) => nest.get(k) !== platform.get(k));
      expect({ producer: n, differing }).toEqual({ producer: n, differing: [] });
    }
    // Spread over the partitions (not all on one), and the legacy partitioner disagrees.
    expect(new Set(platform.values()).size).toBe(partitions);
    const legacyParts = partitionsBy(topicOf.legacy);
    expect(keys.filter((k) => legacyParts.get(k) !== platform.get(k)).length).toBeGreaterThan(
      keys.length / 2,
    );

    // The example's records on the real topics sit where the platform puts their keys.
    const real = await world.read(
      [TOPICS.imMessageSent.name, TOPICS.imGroupMembers.name],
      (rs) => rs.length >= 4,
    );
    for (const r of real) {
      expect({ key: r.key, partition: r.partition }).toEqual({
        key: r.key,
        partition: platform.get(r.key!),
      });
    }
  });

  it('a record that breaks the contract is dead-lettered with its original bytes, not pushed', async () => {
    // A c2c message must name exactly one recipient.
    const bad: ImMessageSent = { ...messages.m3, messageId: u('bad'), recipients: [dave, bob] };
    const r = await request(upstream.getHttpServer())
      .post('/im/messages')
      .set('x-correlation-id', correlationOf(bad.messageId))
      .send(bad);
    expect(r.status).toBe(202);
    // A membership keyed `appId:groupId` (DESIGN.md's key) would sit on another partition than
    // the group's messages: the platform refuses it.
    const misKeyed: ImGroupMembers = { appId: APP, groupId: u('old-key'), members: [bob] };
    const client = upstream.get<ClientKafka>(IM_KAFKA);
    await lastValueFrom(
      client.emit(IM_TOPICS.groupMembers, {
        key: `${APP}:${misKeyed.groupId}`,
        value: misKeyed,
        headers: { 'x-correlation-id': correlationOf(misKeyed.groupId) },
      }),
    );

    const fromUpstream = (rs: ReadRecord[]) =>
      rs
        .map((x) => DeadLetterSchema.parse(JSON.parse(x.value!)))
        .filter((l) => l.source.topic.startsWith('im.'));
    const letters = fromUpstream(
      await world.read([TOPICS.deadLetter.name], (rs) => fromUpstream(rs).length >= 2),
    );
    const byTopic = new Map(letters.map((l) => [l.source.topic, l]));
    expect(byTopic.get(TOPICS.imMessageSent.name)).toMatchObject({
      source: { key: messageKey(bad) },
      error: { code: 'SCHEMA_VIOLATION' },
      value: JSON.stringify(bad),
      valueEncoding: 'utf8',
      headers: { [HEADERS.correlationId]: correlationOf(bad.messageId) },
    });
    expect(byTopic.get(TOPICS.imGroupMembers.name)).toMatchObject({
      source: { key: `${APP}:${misKeyed.groupId}` },
      error: { code: 'KEY_MISMATCH' },
      value: JSON.stringify(misKeyed),
    });
    expect(letters).toHaveLength(2);
    expect(world.apns.received).toHaveLength(3);
    expect(world.fcm.received).toHaveLength(4);
  });
});

/**
 * Values whose keys the check compares: the test's own messages and membership, and 150 more
 * across tenants, c2c and group conversations (a group's membership with its messages).
 */
function copartitionSample(run: string): Array<ImMessageSent | ImGroupMembers> {
  const out: Array<ImMessageSent | ImGroupMembers> = [];
  for (let i = 0; i < 150; i++) {
    const appId = `tenant-${i % 7}`;
    const kind = i % 3 === 0 ? 'group' : 'c2c';
    const id = `${kind === 'group' ? 'g' : 'u'}${i}-${run}`;
    out.push({
      appId,
      messageId: `cp-${i}-${run}`,
      sentAt: new Date().toISOString(),
      conversation: { type: kind, id },
      sender: { userId: `s${i}` },
      recipients: kind === 'c2c' ? [`r${i}`] : null,
      elements: [{ type: 'text', text: `message ${i}` }],
      ttlSeconds: 3600,
    });
    if (kind === 'group') out.push({ appId, groupId: id, members: [`s${i}`, `r${i}`] });
  }
  return out;
}
