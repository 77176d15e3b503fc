import type { INestApplication } from '@nestjs/common';
import {
  TOPICS,
  type ApnsRequest,
  type DeadLetter,
  type FcmRequest,
  type PushIntent,
  type PushOutcome,
} from '@app/contracts';
import { EventProducer, KafkaConsumerGroups, outbound } from '@app/kafka';
import {
  apnsDevice,
  fcmDevice,
  publishPresence,
  publishTokens,
  testKafka,
  TopicRecorder,
  uniqueId,
  waitFor,
  startService,
} from '@app/testing';
import type { Admin, Kafka } from 'kafkajs';
import request from 'supertest';
import { DecideConsumer } from '@apps/routing/decide/decide.consumer';
import { FanoutConsumer } from '@apps/routing/fanout/fanout.consumer';
import { DECIDE_GROUP } from '@apps/routing/routing.groups';
import { SERVICES } from '../services';

const AUTH = { authorization: 'Bearer demo-api-key' };

/** The routing service in-process against the real broker: HTTP → fan-out → decide → requests. */
describe('routing pipeline', () => {
  let kafka: Kafka;
  let admin: Admin;
  let producer: EventProducer;
  let app: INestApplication;
  let decide: DecideConsumer;
  let fanout: FanoutConsumer;
  let rec: TopicRecorder;
  let readyAtBoot: request.Response;
  let groups: { fanout: string; decide: string };

  beforeAll(async () => {
    kafka = testKafka('routing-it');
    admin = kafka.admin();
    await admin.connect();
    producer = new EventProducer(kafka);
    await producer.connect();
    const fanoutGroup = uniqueId('routing-fanout');
    const decideGroup = uniqueId('routing-decide');
    // New groups: routing itself starts them at the end of the shared input topics.
    groups = { fanout: fanoutGroup, decide: decideGroup };
    rec = await TopicRecorder.start(kafka, [
      TOPICS.apnsRequest.name,
      TOPICS.fcmRequest.name,
      TOPICS.pushOutcome.name,
      TOPICS.pushIntent.name,
      TOPICS.deadLetter.name,
      TOPICS.imMessageSent.name,
    ]);
    app = await startService({
      ...SERVICES.routing,
      env: {
        ...process.env,
        LOG_LEVEL: 'warn',
        ROUTING_FANOUT_GROUP: fanoutGroup,
        ROUTING_DECIDE_GROUP: decideGroup,
        ROUTING_UNKNOWN_GROUP_GRACE_MS: '2000',
        // Boot does not wait for the restore: readiness must say so.
      },
    });
    decide = app.get(DecideConsumer);
    fanout = app.get(FanoutConsumer);
    readyAtBoot = await request(app.getHttpServer()).get('/health/ready');
    await waitFor(async () => (await request(app.getHttpServer()).get('/health/ready')).ok, {
      what: 'ready after the restore',
      timeoutMs: 60000,
    });
  });

  afterAll(async () => {
    await app?.close();
    await rec?.stop();
    await producer?.disconnect();
    await admin?.disconnect();
  });

  const tokensVersion = (userId: string) => decide.state.tokens.get(`demo:${userId}`)?.version;
  const presenceVersion = (userId: string) => decide.state.presence.get(`demo:${userId}`)?.version;

  /** Waits until decide holds the latest snapshots of these users. */
  async function decideSees(userIds: string[], what: 'tokens' | 'presence' | 'both' = 'both') {
    const latest = new Map<string, [number | undefined, number | undefined]>();
    await waitFor(
      () =>
        userIds.every((u) => {
          const t = tokensVersion(u);
          const p = presenceVersion(u);
          const prev = latest.get(u);
          latest.set(u, [t, p]);
          const tOk = what === 'presence' || t !== undefined;
          const pOk = what === 'tokens' || p !== undefined;
          return tOk && pOk && prev?.[0] === t && prev?.[1] === p;
        }),
      { what: 'decide state caught up', timeoutMs: 20000, intervalMs: 300 },
    );
  }

  it('is not ready until the state is restored, then ready', async () => {
    expect(readyAtBoot.status).toBe(503);
    expect(readyAtBoot.body.error.kafka).toEqual({
      status: 'down',
      message: expect.stringMatching(/not running yet: routing|restoring state/),
    });
    expect(app.get(KafkaConsumerGroups).isRestored(DECIDE_GROUP)).toBe(true);
    // The new groups were started at the end of their input, not at the week-old beginning.
    for (const [group, topic] of [
      [groups.fanout, TOPICS.imMessageSent.name],
      [groups.decide, TOPICS.pushIntent.name],
    ]) {
      const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      expect(committed.partitions.every((p) => Number(p.offset) >= 0)).toBe(true);
    }
    const res = await request(app.getHttpServer()).get('/health/ready');
    expect(res.status).toBe(200);
    expect(res.body.details.kafka.status).toBe('up');
  });

  it('turns a message into requests for the devices that should ring, and outcomes for the rest', async () => {
    const [alice, bob, carol, dave] = ['alice', 'bob', 'carol', 'dave'].map((n) => uniqueId(n));
    await publishTokens(producer, bob, [apnsDevice('iphone-1'), fcmDevice('pixel-1')]);
    await publishPresence(producer, bob, [
      { deviceId: 'iphone-1', status: 'push_online', unreadCount: 2 },
    ]);
    await publishTokens(producer, carol, [apnsDevice('iphone-9')]);
    await publishPresence(producer, carol, [{ deviceId: 'iphone-9', status: 'online' }]);
    await decideSees([bob, carol]);
    const groupId = uniqueId('g');
    const messageId = uniqueId('m');
    const res = await request(app.getHttpServer())
      .post('/v1/apps/demo/messages')
      .set(AUTH)
      .send({
        appId: 'demo',
        messageId,
        sentAt: new Date().toISOString(),
        conversation: { type: 'group', id: groupId, name: 'Weekend hikers' },
        sender: { userId: alice, nickname: 'Alice', nameCard: 'Ali' },
        recipients: [alice, bob, carol, dave],
        elements: [{ type: 'text', text: 'Look at this' }, { type: 'image' }],
        offlinePush: { ext: '{"entity":{"id":1}}' },
      });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ messageId, status: 'accepted' });

    const mine = (v: { messageId: string }) => v.messageId === messageId;
    const [apnsReqs, fcmReqs, outs, ints] = await Promise.all([
      rec.collect<ApnsRequest>(TOPICS.apnsRequest.name, mine, { count: 1, settleMs: 1500 }),
      rec.collect<FcmRequest>(TOPICS.fcmRequest.name, mine, { count: 1, settleMs: 1500 }),
      rec.collect<PushOutcome>(TOPICS.pushOutcome.name, mine, { count: 2, settleMs: 1500 }),
      rec.collect<PushIntent>(TOPICS.pushIntent.name, (v) => v.message.messageId === messageId, {
        count: 3,
        settleMs: 1500,
      }),
    ]);
    expect(ints.map((i) => i.userId).sort()).toEqual([bob, carol, dave].sort()); // never the sender
    expect(ints[0].message.recipients).toBeNull(); // the intent does not carry the whole list
    expect(apnsReqs).toHaveLength(1);
    expect(apnsReqs[0]).toMatchObject({
      userId: bob,
      deviceId: 'iphone-1',
      topic: 'com.example.chat',
      environment: 'sandbox',
      attempt: 0,
      payload: {
        aps: {
          alert: { title: 'Weekend hikers', body: 'Ali: Look at this[Image]' },
          badge: 3,
          sound: 'default',
          'thread-id': `group:${groupId}`,
        },
        ext: '{"entity":{"id":1}}',
      },
    });
    expect(fcmReqs).toHaveLength(1);
    expect(fcmReqs[0]).toMatchObject({
      userId: bob,
      deviceId: 'pixel-1',
      message: {
        notification: { title: 'Weekend hikers', body: 'Ali: Look at this[Image]' },
        data: { ext: '{"entity":{"id":1}}', messageId, conversation: `group:${groupId}` },
        android: { notification: { notification_count: 1 } },
      },
    });
    expect(outs.map((o) => [o.userId, o.deviceId, o.status, o.code]).sort()).toEqual(
      [
        [carol, 'iphone-9', 'suppressed', 'online'],
        [dave, null, 'suppressed', 'no_device'],
      ].sort(),
    );
  });

  it('resolves group members from im.group-members.v1 and a new snapshot changes the next decision', async () => {
    const [alice, bob] = ['alice', 'bob'].map((n) => uniqueId(n));
    const groupId = uniqueId('g');
    await publishTokens(producer, bob, [apnsDevice('iphone-1'), fcmDevice('pixel-1')]);
    await producer.send([
      outbound(TOPICS.imGroupMembers, { appId: 'demo', groupId, members: [alice, bob] }),
    ]);
    await decideSees([bob], 'tokens');
    await waitFor(() => fanout.groups.has(`demo:group:${groupId}`), {
      what: 'group table',
    });

    const send = async (
      messageId: string,
      want: { apns: number; fcm: number; outcomes: number },
    ) => {
      await producer.send([
        outbound(TOPICS.imMessageSent, {
          appId: 'demo',
          messageId,
          sentAt: new Date().toISOString(),
          conversation: { type: 'group', id: groupId, name: 'G' },
          sender: { userId: alice, nickname: 'Alice' },
          elements: [{ type: 'text', text: 'hi' }],
          ttlSeconds: 3600,
        }),
      ]);
      const mine = (v: { messageId: string }) => v.messageId === messageId;
      // Decide commits a batch's records together: once the expected ones are there, a read of
      // the others (from the same start) shows whether anything else was written.
      const reads = [
        () =>
          rec.collect<ApnsRequest>(TOPICS.apnsRequest.name, mine, {
            count: want.apns,
            settleMs: 1000,
          }),
        () =>
          rec.collect<FcmRequest>(TOPICS.fcmRequest.name, mine, {
            count: want.fcm,
            settleMs: 1000,
          }),
        () =>
          rec.collect<PushOutcome>(TOPICS.pushOutcome.name, mine, {
            count: want.outcomes,
            settleMs: 1000,
          }),
      ] as const;
      const counts = [want.apns, want.fcm, want.outcomes];
      const results: unknown[][] = [[], [], []];
      await Promise.all(
        counts.map(async (c, i) => {
          if (c > 0) results[i] = await reads[i]();
        }),
      );
      await Promise.all(
        counts.map(async (c, i) => {
          if (c === 0) results[i] = await reads[i]();
        }),
      );
      const [a, f, o] = results as [ApnsRequest[], FcmRequest[], PushOutcome[]];
      return { apns: a, fcm: f, outcomes: o };
    };

    const first = await send(uniqueId('m'), { apns: 1, fcm: 1, outcomes: 0 });
    expect(first.apns.map((r) => r.userId)).toEqual([bob]);
    expect(first.fcm.map((r) => r.userId)).toEqual([bob]);
    expect(first.fcm[0].message).toMatchObject({
      android: { ttl: expect.stringMatching(/^3[56]\d\ds$/) },
    });

    // The user mutes the group: the next message rings nowhere.
    await publishTokens(producer, bob, [apnsDevice('iphone-1'), fcmDevice('pixel-1')], {
      conversations: { [`group:${groupId}`]: 'receive_not_notify' },
    });
    await waitFor(
      () => decide.state.tokens.get(`demo:${bob}`)?.settings.conversations[`group:${groupId}`],
      { what: 'muted settings in decide' },
    );
    const second = await send(uniqueId('m'), { apns: 0, fcm: 0, outcomes: 2 });
    expect(second.apns).toHaveLength(0);
    expect(second.fcm).toHaveLength(0);
    expect(second.outcomes.map((o) => [o.deviceId, o.code]).sort()).toEqual([
      ['iphone-1', 'receive_not_notify'],
      ['pixel-1', 'receive_not_notify'],
    ]);

    // Unmuted, and the phone comes to the foreground: only the Android device rings.
    await publishTokens(producer, bob, [apnsDevice('iphone-1'), fcmDevice('pixel-1')]);
    await publishPresence(producer, bob, [{ deviceId: 'iphone-1', status: 'online' }]);
    await waitFor(
      () =>
        decide.state.presence.get(`demo:${bob}`) &&
        !decide.state.tokens.get(`demo:${bob}`)?.settings.conversations[`group:${groupId}`],
      { what: 'new snapshots in decide' },
    );
    const third = await send(uniqueId('m'), { apns: 0, fcm: 1, outcomes: 1 });
    expect(third.apns).toHaveLength(0);
    expect(third.fcm.map((r) => r.deviceId)).toEqual(['pixel-1']);
    expect(third.fcm[0].message).toMatchObject({
      android: { notification: { notification_count: 2 } },
    });
    expect(third.outcomes.map((o) => [o.deviceId, o.code])).toEqual([['iphone-1', 'online']]);
  });

  it('dead-letters a group message whose membership is unknown', async () => {
    const groupId = uniqueId('nogroup');
    await producer.send([
      outbound(TOPICS.imMessageSent, {
        appId: 'demo',
        messageId: uniqueId('m'),
        sentAt: new Date().toISOString(),
        conversation: { type: 'group', id: groupId },
        sender: { userId: 'alice' },
        elements: [{ type: 'text', text: 'hi' }],
        ttlSeconds: 60,
      }),
    ]);
    const [letter] = await rec.collect<DeadLetter>(
      TOPICS.deadLetter.name,
      (d) => d.source.key === `demo:group:${groupId}`,
      { count: 1 },
    );
    expect(letter.error.code).toBe('UNKNOWN_GROUP');
    expect(letter.source.topic).toBe(TOPICS.imMessageSent.name);
  });

  it('accepts many concurrent requests, each stored once', async () => {
    const prefix = uniqueId('burst');
    const ids = Array.from({ length: 40 }, (_, i) => `${prefix}-${i}`);
    const responses = await Promise.all(
      ids.map((messageId) =>
        request(app.getHttpServer())
          .post('/v1/apps/demo/messages')
          .set(AUTH)
          .send({
            appId: 'demo',
            messageId,
            sentAt: new Date().toISOString(),
            conversation: { type: 'c2c', id: 'alice' },
            sender: { userId: 'alice' },
            recipients: [uniqueId('nobody')],
            elements: [{ type: 'text', text: 'hi' }],
          }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(ids.map(() => 202));
    const stored = await rec.collect<{ messageId: string }>(
      TOPICS.imMessageSent.name,
      (v) => v.messageId.startsWith(prefix),
      { count: ids.length, settleMs: 500 },
    );
    expect(stored.map((v) => v.messageId).sort()).toEqual([...ids].sort());
  });

  it('answers 400/401/403 with problem+json', async () => {
    const http = () => request(app.getHttpServer()).post('/v1/apps/demo/messages');
    const bad = await http()
      .set(AUTH)
      .send({
        appId: 'demo',
        messageId: 'x',
        sentAt: 'yesterday',
        conversation: { type: 'c2c', id: 'a' },
        sender: { userId: 'b' },
        elements: [],
      });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    const fields = (bad.body.errors as Array<{ field: string }>).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['sentAt', 'elements', 'recipients']));
    const other = await http()
      .set(AUTH)
      .send({
        appId: 'other',
        messageId: 'x',
        sentAt: new Date().toISOString(),
        conversation: { type: 'c2c', id: 'a' },
        sender: { userId: 'a' },
        recipients: ['b'],
        elements: [{ type: 'text', text: 'x' }],
      });
    expect(other.status).toBe(400);
    expect(other.body.errors).toEqual([expect.objectContaining({ field: 'appId' })]);
    expect((await http().send({})).status).toBe(401);
    expect(
      (await request(app.getHttpServer()).post('/v1/apps/other/messages').set(AUTH).send({}))
        .status,
    ).toBe(403);
  });
});
