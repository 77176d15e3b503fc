import type { INestApplication } from '@nestjs/common';
import {
  TOPICS,
  type DeadLetter,
  type TokenInvalidated,
  type TokenUserDevices,
} from '@app/contracts';
import { EventProducer, outbound } from '@app/kafka';
import { apnsToken, fcmToken, testKafka, TopicRecorder, uniqueId, waitFor } from '@app/testing';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { DEMO, migratedDataSource, startRegistry } from './registry.fixture';

interface Listed {
  deviceId: string;
  environment: string | null;
  tokenPreview: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** token.invalidated.v1 through the real consumer group, against the real database. */
describe('token-registry invalidation consumer', () => {
  let app: INestApplication;
  let ds: DataSource;
  let producer: EventProducer;
  let snapshots: TopicRecorder;
  let letters: TopicRecorder;
  const kafka = testKafka('registry-invalidation-test');

  beforeAll(async () => {
    ds = await migratedDataSource();
    snapshots = await TopicRecorder.start(kafka, TOPICS.tokenUserDevices.name);
    letters = await TopicRecorder.start(kafka, TOPICS.deadLetter.name);
    producer = new EventProducer(kafka);
    await producer.connect();
    app = await startRegistry();
  });

  afterAll(async () => {
    await app?.close();
    await producer?.disconnect();
    await snapshots?.stop();
    await letters?.stop();
    await ds?.destroy();
  });

  const http = () => request(app.getHttpServer());
  const register = (userId: string, deviceId: string, body: object) =>
    http()
      .put(`/v1/apps/demo/users/${userId}/devices/${deviceId}`)
      .set('authorization', DEMO.auth)
      .send(body)
      .expect(200);
  const devices = async (userId: string): Promise<Listed[]> =>
    (await http().get(`/v1/apps/demo/users/${userId}/devices`).set('authorization', DEMO.auth)).body
      .devices;
  const invalidate = (
    ev: Partial<TokenInvalidated> & Pick<TokenInvalidated, 'userId' | 'token'>,
  ) => {
    const value: TokenInvalidated = {
      appId: 'demo',
      deviceId: 'd1',
      provider: 'apns',
      reason: 'unregistered',
      at: new Date().toISOString(),
      ...ev,
    };
    return producer.send([outbound(TOPICS.tokenInvalidated, value)]);
  };
  /**
   * Records of one user share a partition and are handled in order: once a later invalidation of
   * a throw-away device has been applied, every earlier record of that user has been handled.
   */
  const barrier = async (userId: string) => {
    const token = apnsToken();
    await register(userId, 'barrier', { platform: 'ios', token });
    await sleep(20);
    await invalidate({
      userId,
      deviceId: 'barrier',
      token,
      providerTimestamp: new Date().toISOString(),
    });
    await waitFor(async () => !(await devices(userId)).some((d) => d.deviceId === 'barrier'), {
      what: `barrier of ${userId} applied`,
    });
  };
  const published = (userId: string) =>
    snapshots.forKey<TokenUserDevices>(`demo:${userId}`).map((r) => r.value);

  it('deletes a token registered before the provider timestamp and republishes the user', async () => {
    const user = uniqueId('inv');
    const token = apnsToken();
    await register(user, 'd1', { platform: 'ios', token });
    await register(user, 'd2', { platform: 'ios', token: apnsToken() });
    await sleep(20);
    await invalidate({ userId: user, token, providerTimestamp: new Date().toISOString() });
    await waitFor(async () => (await devices(user)).length === 1, { what: 'd1 deleted' });
    expect((await devices(user)).map((d) => d.deviceId)).toEqual(['d2']);
    const snap = await waitFor(() => published(user).find((s) => s.version === 3), {
      what: 'snapshot v3',
    });
    expect(snap.devices.map((d) => d.deviceId)).toEqual(['d2']);
  });

  it('keeps a token registered again after the provider timestamp (the race)', async () => {
    const user = uniqueId('inv');
    const token = apnsToken();
    await register(user, 'd1', { platform: 'ios', token });
    await sleep(30);
    const providerTimestamp = new Date().toISOString();
    await sleep(30);
    // The app registers the same token again: newer evidence than the provider's answer.
    await register(user, 'd1', { platform: 'ios', token });
    await invalidate({ userId: user, token, providerTimestamp });
    await barrier(user);
    expect((await devices(user)).map((d) => d.deviceId)).toEqual(['d1']);
  });

  it('keeps a token that moved to another user since the failed send', async () => {
    const alice = uniqueId('alice');
    const bob = uniqueId('bob');
    const token = apnsToken();
    await register(alice, 'd1', { platform: 'ios', token });
    await sleep(30);
    const providerTimestamp = new Date().toISOString();
    await sleep(30);
    await register(bob, 'b1', { platform: 'ios', token });
    await invalidate({ userId: alice, token, providerTimestamp });
    await barrier(alice);
    expect((await devices(bob)).map((d) => d.deviceId)).toEqual(['b1']);
  });

  it('without a provider timestamp, compares with the time the dispatcher saw the error', async () => {
    const user = uniqueId('inv');
    const token = fcmToken();
    await register(user, 'pixel', { platform: 'android', token });
    await sleep(20);
    await producer.send([
      outbound(TOPICS.tokenInvalidated, {
        appId: 'demo',
        userId: user,
        deviceId: 'pixel',
        provider: 'fcm',
        token,
        reason: 'unregistered',
        at: new Date().toISOString(),
      }),
    ]);
    await waitFor(async () => (await devices(user)).length === 0, { what: 'FCM token deleted' });
  });

  it('fixes the environment on environment_mismatch instead of deleting', async () => {
    const user = uniqueId('inv');
    const token = apnsToken();
    await register(user, 'd1', { platform: 'ios', token, environment: 'production' });
    await sleep(20);
    await invalidate({
      userId: user,
      token,
      reason: 'environment_mismatch',
      environment: 'sandbox',
      providerTimestamp: new Date().toISOString(),
    });
    await waitFor(async () => (await devices(user))[0]?.environment === 'sandbox', {
      what: 'environment updated',
    });
    expect(await devices(user)).toHaveLength(1);
    const snap = await waitFor(() => published(user).find((s) => s.version === 2), {
      what: 'snapshot v2',
    });
    expect(snap.devices).toEqual([
      expect.objectContaining({ deviceId: 'd1', token, environment: 'sandbox' }),
    ]);
  });

  it('dead-letters records it cannot apply, and moves on', async () => {
    const user = uniqueId('inv');
    const key = `demo:${user}`;
    const raw = kafka.producer();
    await raw.connect();
    await raw.send({
      topic: TOPICS.tokenInvalidated.name,
      messages: [
        { key, value: '{"appId": "demo", "userId": ' },
        { key, value: JSON.stringify({ appId: 'demo', userId: user, reason: 'gone' }) },
      ],
    });
    await raw.disconnect();
    const fcm = fcmToken();
    await register(user, 'pixel', { platform: 'android', token: fcm });
    await sleep(20);
    await invalidate({
      userId: user,
      deviceId: 'pixel',
      provider: 'fcm',
      token: fcm,
      reason: 'environment_mismatch',
      providerTimestamp: new Date().toISOString(),
    });
    await barrier(user);
    const mine = await waitFor(
      () => {
        const ls = letters.forKey<DeadLetter>(key);
        return ls.length >= 3 ? ls.map((r) => r.value) : undefined;
      },
      { what: '3 dead letters' },
    );
    expect(mine.map((l) => l.error.code)).toEqual([
      'INVALID_JSON',
      'SCHEMA_VIOLATION',
      'ENVIRONMENT_MISMATCH_NOT_APNS',
    ]);
    expect(mine.every((l) => l.source.topic === TOPICS.tokenInvalidated.name)).toBe(true);
    // The FCM device is untouched.
    expect((await devices(user)).map((d) => d.deviceId)).toEqual(['pixel']);
  });

  describe('checked against the device it names', () => {
    const metric = async (result: string) => {
      const text = (await http().get('/metrics').expect(200)).text;
      const line = text
        .split('\n')
        .find(
          (l) =>
            l.startsWith('push_registry_invalidations_total{') &&
            l.includes('reason="unregistered"') &&
            l.includes(`result="${result}"`),
        );
      return line ? Number(line.split(' ').at(-1)) : 0;
    };

    it("changes nothing for a record naming another user's device, even when the token moved before the provider's timestamp", async () => {
      const alice = uniqueId('alice');
      const bob = uniqueId('bob');
      const token = apnsToken();
      await register(alice, 'd1', { platform: 'ios', token });
      // The token moves to bob, well before the provider's answer about alice's old send.
      await register(bob, 'b1', { platform: 'ios', token });
      await sleep(30);
      const before = await metric('held_elsewhere');
      await invalidate({
        userId: alice,
        deviceId: 'd1',
        token,
        providerTimestamp: new Date().toISOString(),
      });
      await barrier(alice);
      expect((await devices(bob)).map((d) => d.deviceId)).toEqual(['b1']);
      expect(await metric('held_elsewhere')).toBe(before + 1);
    });

    it('changes nothing when the named device holds another token now, or another device of the user holds it', async () => {
      const user = uniqueId('inv');
      const old = apnsToken();
      const fresh = apnsToken();
      const other = apnsToken();
      await register(user, 'd1', { platform: 'ios', token: old });
      await register(user, 'd1', { platform: 'ios', token: fresh });
      await register(user, 'd2', { platform: 'ios', token: other });
      await sleep(30);
      const changedBefore = await metric('token_changed');
      const elsewhereBefore = await metric('held_elsewhere');
      const providerTimestamp = new Date().toISOString();
      // A late verdict on d1's previous token, and one naming d1 for d2's token.
      await invalidate({ userId: user, deviceId: 'd1', token: old, providerTimestamp });
      await invalidate({ userId: user, deviceId: 'd1', token: other, providerTimestamp });
      await barrier(user);
      const listed = await devices(user);
      expect(listed.map((d) => [d.deviceId, d.tokenPreview]).sort()).toEqual([
        ['d1', `${fresh.slice(0, 6)}…${fresh.slice(-4)}`],
        ['d2', `${other.slice(0, 6)}…${other.slice(-4)}`],
      ]);
      expect(await metric('token_changed')).toBe(changedBefore + 1);
      expect(await metric('held_elsewhere')).toBe(elsewhereBefore + 1);
    });

    it('dead-letters a providerTimestamp beyond the clock-skew allowance; within it, applies', async () => {
      const user = uniqueId('inv');
      const key = `demo:${user}`;
      const token = apnsToken();
      const token2 = apnsToken();
      await register(user, 'd1', { platform: 'ios', token });
      await register(user, 'd2', { platform: 'ios', token: token2 });
      await sleep(20);
      // Default allowance 300 s: an hour ahead is refused, a minute ahead is clock skew.
      await invalidate({
        userId: user,
        deviceId: 'd1',
        token,
        providerTimestamp: new Date(Date.now() + 3600_000).toISOString(),
      });
      await barrier(user);
      expect((await devices(user)).map((d) => d.deviceId).sort()).toEqual(['d1', 'd2']);
      const [letter] = await waitFor(
        () => {
          const ls = letters.forKey<DeadLetter>(key);
          return ls.length ? ls.map((r) => r.value) : undefined;
        },
        { what: 'dead letter of the future timestamp' },
      );
      expect(letter.error.code).toBe('PROVIDER_TIMESTAMP_IN_FUTURE');
      expect(letter.error.message).toMatch(/providerTimestamp .* more than 300 s ahead/);
      expect(letter.source.topic).toBe(TOPICS.tokenInvalidated.name);
      // The token itself is not kept in the letter (hashed), the rest of the record is.
      expect(letter.value).not.toContain(token);
      expect(letter.value).toContain('"deviceId":"d1"');

      await invalidate({
        userId: user,
        deviceId: 'd2',
        token: token2,
        providerTimestamp: new Date(Date.now() + 60_000).toISOString(),
      });
      await waitFor(async () => (await devices(user)).length === 1, { what: 'd2 deleted' });
      expect((await devices(user)).map((d) => d.deviceId)).toEqual(['d1']);
    });
  });
});
