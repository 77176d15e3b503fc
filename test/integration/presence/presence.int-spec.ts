import type { INestApplication } from '@nestjs/common';
import {
  TOPICS,
  type DeadLetter,
  type PresenceDeviceEvent,
  type PresenceUserState,
} from '@app/contracts';
import { EventProducer, outbound } from '@app/kafka';
import { testKafka, testTenant, TopicRecorder, uniqueId, waitFor } from '@app/testing';
import type { Kafka } from 'kafkajs';
import request from 'supertest';
import { startPresence } from './presence.helpers';

/**
 * Presence against the real broker: device events over the topic and over HTTP feed one state
 * machine, snapshots land on the compacted topic, a heartbeat timeout flips a device, bad events
 * are dead-lettered, and a restarted instance restores its state from the changelog.
 */
describe('presence service', () => {
  const HEARTBEAT_TIMEOUT_S = 3;
  const tenant = testTenant('presence-it');
  const groupId = uniqueId('presence-it');
  const env = {
    PUSH_APPS_FILE: tenant.file,
    PRESENCE_CONSUMER_GROUP: groupId,
    PRESENCE_HEARTBEAT_INTERVAL_SECONDS: '1',
    PRESENCE_HEARTBEAT_TIMEOUT_SECONDS: String(HEARTBEAT_TIMEOUT_S),
    PRESENCE_SWEEP_INTERVAL_MS: '200',
  };
  let kafka: Kafka;
  let producer: EventProducer;
  let snapshots: TopicRecorder;
  let deadLetters: TopicRecorder;
  let app: INestApplication;

  const key = (userId: string) => `${tenant.appId}:${userId}`;
  const event = (
    userId: string,
    type: PresenceDeviceEvent['type'],
    extra: Partial<PresenceDeviceEvent> = {},
  ): PresenceDeviceEvent => ({
    appId: tenant.appId,
    userId,
    deviceId: 'phone-1',
    platform: 'android',
    type,
    at: new Date().toISOString(),
    ...extra,
  });
  const send = (...events: PresenceDeviceEvent[]) =>
    producer.send(events.map((e) => outbound(TOPICS.presenceDeviceEvent, e)));
  const versions = (userId: string) =>
    snapshots.forKey<PresenceUserState>(key(userId)).map((r) => r.value);
  const latest = (userId: string) => versions(userId).at(-1);
  const waitForSnapshot = (
    userId: string,
    pred: (s: PresenceUserState) => boolean,
    what: string,
    timeoutMs = 30000,
  ) =>
    waitFor(() => versions(userId).find(pred), {
      what: `${what} (${userId}: ${JSON.stringify(latest(userId))})`,
      timeoutMs,
    });
  const http = () => request(app.getHttpServer());
  const auth = { authorization: `Bearer ${tenant.apiKey}` };
  const ready = async (a: INestApplication) => {
    await waitFor(
      async () => (await request(a.getHttpServer()).get('/health/ready')).status === 200,
      { what: 'presence ready', timeoutMs: 60000 },
    );
  };

  beforeAll(async () => {
    kafka = testKafka();
    producer = new EventProducer(kafka);
    await producer.connect();
    snapshots = await TopicRecorder.start(kafka, TOPICS.presenceUserState.name, {
      keyPrefix: `${tenant.appId}:`,
    });
    deadLetters = await TopicRecorder.start(kafka, TOPICS.deadLetter.name, {
      keyPrefix: tenant.appId,
    });
    app = await startPresence(env);
    // Not ready until the group has joined and the changelog of every partition is read.
    const first = await http().get('/health/ready');
    expect(first.status).toBe(503);
    expect(first.body.error.kafka.message).toMatch(/not running yet: presence|restoring state/);
    await ready(app);
  });

  afterAll(async () => {
    await app?.close();
    await snapshots?.stop();
    await deadLetters?.stop();
    await producer?.disconnect();
  });

  it('turns gateway events into snapshots; heartbeats alone publish none; silence times out', async () => {
    const user = uniqueId('u');
    await send(event(user, 'connected'));
    const online = await waitForSnapshot(user, (s) => s.devices[0]?.status === 'online', 'online');
    expect(online).toMatchObject({ appId: tenant.appId, userId: user, version: 1 });
    expect(online.devices).toEqual([
      expect.objectContaining({ deviceId: 'phone-1', platform: 'android', unreadCount: null }),
    ]);

    // Heartbeats well inside the timeout: the device stays online and nothing is published.
    let lastBeat = 0;
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const beat = event(user, 'heartbeat');
      lastBeat = Date.parse(beat.at);
      await send(beat);
    }
    await new Promise((r) => setTimeout(r, 1000));
    expect(versions(user)).toHaveLength(1);
    const view = await http().get(`/v1/apps/${tenant.appId}/users/${user}/presence`).set(auth);
    expect(view.status).toBe(200);
    expect(view.body.devices[0]).toMatchObject({ status: 'online' });
    expect(Date.parse(view.body.devices[0].lastSeenAt)).toBe(lastBeat);

    // Then silence: the timer runs out HEARTBEAT_TIMEOUT_S after the last heartbeat.
    const lost = await waitForSnapshot(
      user,
      (s) => s.devices[0]?.status === 'push_online',
      'push_online after the heartbeat timeout',
    );
    expect(lost.version).toBe(2);
    expect(Date.parse(lost.devices[0].since)).toBe(lastBeat + HEARTBEAT_TIMEOUT_S * 1000);
    expect(Date.parse(lost.devices[0].lastSeenAt)).toBe(lastBeat);

    // The next heartbeat brings it back.
    await send(event(user, 'heartbeat'));
    await waitForSnapshot(
      user,
      (s) => s.version === 3 && s.devices[0].status === 'online',
      'back online',
    );
  });

  it('takes the app reports over HTTP into the same state machine (202 once Kafka has it)', async () => {
    const user = uniqueId('u');
    await send(event(user, 'connected', { deviceId: 'ipad-1', platform: 'ios' }));
    await waitForSnapshot(user, (s) => s.devices[0]?.status === 'online', 'online');

    const res = await http()
      .post(`/v1/apps/${tenant.appId}/users/${user}/devices/ipad-1/presence`)
      .set(auth)
      .send({ type: 'background', unreadCount: 5 });
    expect(res.status).toBe(202);
    expect(res.body.accepted).toMatchObject({
      appId: tenant.appId,
      userId: user,
      deviceId: 'ipad-1',
      type: 'background',
      unreadCount: 5,
    });
    const bg = await waitForSnapshot(user, (s) => s.version === 2, 'background snapshot');
    expect(bg.devices).toEqual([
      expect.objectContaining({
        deviceId: 'ipad-1',
        platform: 'ios',
        status: 'push_online',
        unreadCount: 5,
        app: 'background',
      }),
    ]);

    const view = await http().get(`/v1/apps/${tenant.appId}/users/${user}/presence`).set(auth);
    expect(view.status).toBe(200);
    expect(view.body).toEqual(bg);

    await http()
      .post(`/v1/apps/${tenant.appId}/users/${user}/devices/ipad-1/presence`)
      .set(auth)
      .send({ type: 'foreground' })
      .expect(202);
    const fg = await waitForSnapshot(user, (s) => s.version === 3, 'foreground snapshot');
    expect(fg.devices[0]).toMatchObject({ status: 'online', unreadCount: null });

    await http()
      .post(`/v1/apps/${tenant.appId}/users/${user}/devices/ipad-1/presence`)
      .set(auth)
      .send({ type: 'logged_out' })
      .expect(202);
    const out = await waitForSnapshot(user, (s) => s.version === 4, 'logout snapshot');
    expect(out.devices[0]).toMatchObject({ status: 'offline', offlineReason: 'logged_out' });
  });

  it('answers bad HTTP input with problems naming the field, and guards the app', async () => {
    const path = `/v1/apps/${tenant.appId}/users/${uniqueId('u')}/devices/d/presence`;
    const bad = await http().post(path).set(auth).send({ type: 'sleeping' });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'type' })]);
    const misplaced = await http()
      .post(path)
      .set(auth)
      .send({ type: 'foreground', unreadCount: 2 });
    expect(misplaced.status).toBe(400);
    expect(misplaced.body.errors).toEqual([expect.objectContaining({ field: 'unreadCount' })]);
    expect((await http().post(path).send({ type: 'foreground' })).status).toBe(401);
    const other = await http()
      .post('/v1/apps/demo/users/x/devices/d/presence')
      .set(auth)
      .send({ type: 'foreground' });
    expect(other.status).toBe(403);
    const unknown = await http()
      .get(`/v1/apps/${tenant.appId}/users/${uniqueId('nobody')}/presence`)
      .set(auth);
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('PRESENCE_UNKNOWN');
  });

  it('dead-letters events it cannot apply, with the reason, and the partition moves on', async () => {
    const user = uniqueId('u');
    const ghostApp = `${tenant.appId}-ghost`;
    await producer.send([
      outbound(TOPICS.presenceDeviceEvent, { ...event(user, 'connected'), appId: ghostApp }),
      // Keyed for another user: it would sit on the wrong partition.
      outbound(TOPICS.presenceDeviceEvent, event(user, 'connected'), { key: key(`${user}-x`) }),
      outbound(TOPICS.presenceDeviceEvent, {
        ...event(user, 'connected'),
        at: new Date(Date.now() + 3600_000).toISOString(),
      }),
      outbound(TOPICS.presenceDeviceEvent, event(user, 'background', { unreadCount: 1 })),
    ]);
    await waitForSnapshot(user, (s) => s.devices[0]?.status === 'push_online', 'the good event');
    const letters = await waitFor(
      () => {
        const mine = deadLetters.values<DeadLetter>().filter((d) => d.value?.includes(user));
        return mine.length >= 3 ? mine : undefined;
      },
      { what: 'three dead letters' },
    );
    expect(letters.map((d) => d.error.code).sort()).toEqual([
      'EVENT_IN_FUTURE',
      'KEY_MISMATCH',
      'UNKNOWN_APP',
    ]);
    expect(letters.every((d) => d.source.topic === TOPICS.presenceDeviceEvent.name)).toBe(true);
    expect(latest(user)!.version).toBe(1);
  });

  it('restores its state from the changelog after a restart, before taking new events', async () => {
    const stayed = uniqueId('u');
    const moved = uniqueId('u');
    // Neither is online: no timer runs out while the test restarts the instance.
    await send(event(stayed, 'background', { unreadCount: 2 }), event(moved, 'disconnected'));
    await waitForSnapshot(stayed, (s) => s.version === 1, 'stayed v1');
    await waitForSnapshot(moved, (s) => s.version === 1, 'moved v1');
    await app.close();

    // While no instance runs: an event for one of them.
    await send(event(moved, 'background', { unreadCount: 9 }));
    app = await startPresence(env);
    await ready(app);

    // Held without any new event: it can only have come from the changelog.
    const view = await http().get(`/v1/apps/${tenant.appId}/users/${stayed}/presence`).set(auth);
    expect(view.status).toBe(200);
    expect(view.body).toEqual(latest(stayed));
    // The event read after the restore builds on the restored state: version 2, not a new user.
    const after = await waitForSnapshot(
      moved,
      (s) => s.devices[0]?.app === 'background',
      'moved v2',
    );
    expect(after.version).toBe(2);
    expect(after.devices[0]).toMatchObject({ status: 'push_online', unreadCount: 9 });
  });

  it('keeps the timers of restored devices: an online device times out after a restart', async () => {
    const user = uniqueId('u');
    await send(event(user, 'connected'));
    await waitForSnapshot(user, (s) => s.devices[0]?.status === 'online', 'online');
    await app.close();
    const restartedAt = Date.now();
    app = await startPresence(env);
    await ready(app);
    const lost = await waitForSnapshot(
      user,
      (s) => s.devices[0]?.status === 'push_online',
      'timed out after restart',
    );
    expect(lost.version).toBe(2);
    // The new instance ran the timer (from when it took the partition over), not the old one.
    expect(Date.parse(lost.devices[0].since)).toBeGreaterThanOrEqual(
      restartedAt + HEARTBEAT_TIMEOUT_S * 1000,
    );
    expect(versions(user)).toHaveLength(2);
  });
});
