import type { INestApplication } from '@nestjs/common';
import { TOPICS, type TokenUserDevices } from '@app/contracts';
import {
  apnsToken,
  fcmToken,
  testKafka,
  TopicRecorder,
  uniqueId,
  waitFor,
  writeAppsFile,
} from '@app/testing';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { ValuesWithinContract1764658800000 } from '@apps/token-registry/database/migrations/1764658800000-values-within-contract';
import { DEMO, migratedDataSource, OTHER, startRegistry } from './registry.fixture';

/** Printable ASCII without space, `"` or `\\`: what a device token may be made of. */
const randomAscii = (n: number): string =>
  [...randomBytes(n)].map((b) => String.fromCharCode(0x23 + (b % 0x38))).join('');

/** The HTTP API against the real database, with the relay publishing to the real broker. */
describe('token-registry HTTP API', () => {
  let app: INestApplication;
  let ds: DataSource;
  let tail: TopicRecorder;
  const kafka = testKafka('registry-api-test');

  beforeAll(async () => {
    ds = await migratedDataSource();
    tail = await TopicRecorder.start(kafka, TOPICS.tokenUserDevices.name);
    app = await startRegistry({ REGISTRY_MAX_DEVICES_PER_USER: '3' });
  });

  afterAll(async () => {
    await app?.close();
    await tail?.stop();
    await ds?.destroy();
  });

  const http = () => request(app.getHttpServer());
  const devicePath = (userId: string, deviceId: string, appId = DEMO.appId) =>
    `/v1/apps/${appId}/users/${userId}/devices/${deviceId}`;
  const put = (userId: string, deviceId: string, body: object, auth = DEMO.auth, appId?: string) =>
    http()
      .put(devicePath(userId, deviceId, appId))
      .set('authorization', auth)
      .send(body);
  const list = (userId: string, auth = DEMO.auth, appId = DEMO.appId) =>
    http().get(`/v1/apps/${appId}/users/${userId}/devices`).set('authorization', auth);
  const ios = (token = apnsToken()) => ({ platform: 'ios', token, topic: 'com.example.chat' });

  /** The snapshots of a user the relay published since the test began, in topic order. */
  const published = (appId: string, userId: string) =>
    tail.forKey<TokenUserDevices>(`${appId}:${userId}`).map((r) => r.value);
  const snapshot = (appId: string, userId: string, version: number) =>
    waitFor(() => published(appId, userId).find((s) => s.version === version), {
      what: `snapshot v${version} of ${userId}`,
    });

  it('registers an iOS device, lists it without the full token, and publishes the snapshot', async () => {
    const user = uniqueId('u');
    const token = apnsToken().toUpperCase();
    const res = await put(user, 'iphone-1', { ...ios(token), locale: 'de-DE' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      version: 1,
      device: {
        deviceId: 'iphone-1',
        platform: 'ios',
        provider: 'apns',
        environment: 'production',
        pushType: 'alert',
        topic: 'com.example.chat',
        locale: 'de-DE',
      },
      movedFrom: [],
      evicted: [],
    });
    const listed = await list(user);
    expect(listed.status).toBe(200);
    expect(listed.body.version).toBe(1);
    expect(listed.body.devices).toHaveLength(1);
    const text = JSON.stringify(listed.body) + JSON.stringify(res.body);
    expect(text.toLowerCase()).not.toContain(token.toLowerCase());
    expect(listed.body.devices[0].tokenPreview).toBe(
      `${token.toLowerCase().slice(0, 6)}…${token.toLowerCase().slice(-4)}`,
    );
    const snap = await snapshot('demo', user, 1);
    // Stored and published in lower case: one token, one spelling.
    expect(snap.devices).toEqual([
      expect.objectContaining({
        deviceId: 'iphone-1',
        token: token.toLowerCase(),
        provider: 'apns',
      }),
    ]);
    expect(snap.settings.pushEnabled).toBe(true);
  });

  it('registers an Android device and replaces a device token on re-registration', async () => {
    const user = uniqueId('u');
    expect((await put(user, 'pixel', { platform: 'android', token: fcmToken() })).status).toBe(200);
    const second = fcmToken();
    const res = await put(user, 'pixel', { platform: 'android', provider: 'fcm', token: second });
    expect(res.status).toBe(200);
    expect(res.body.version).toBe(2);
    expect(res.body.device).toMatchObject({ provider: 'fcm', environment: null, pushType: null });
    expect((await list(user)).body.devices).toHaveLength(1);
    const snap = await snapshot('demo', user, 2);
    expect(snap.devices.map((d) => d.token)).toEqual([second]);
  });

  it('registers a Live Activity push token (pushType liveactivity) and publishes it as one', async () => {
    const user = uniqueId('u');
    const token = apnsToken();
    const res = await put(user, 'order-42', { ...ios(token), pushType: 'liveactivity' });
    expect(res.status).toBe(200);
    expect(res.body.device).toMatchObject({ provider: 'apns', pushType: 'liveactivity' });
    const snap = await snapshot('demo', user, 1);
    expect(snap.devices).toEqual([
      expect.objectContaining({ deviceId: 'order-42', token, pushType: 'liveactivity' }),
    ]);
    // Still APNs only.
    const android = await put(user, 'pixel', {
      platform: 'android',
      token: fcmToken(),
      pushType: 'liveactivity',
    });
    expect(android.status).toBe(400);
    expect(android.body.errors.map((e: { field: string }) => e.field)).toEqual(['pushType']);
  });

  it('moves a token from another user, republishing both users', async () => {
    const alice = uniqueId('alice');
    const bob = uniqueId('bob');
    const token = apnsToken();
    await put(alice, 'phone', ios(token)).expect(200);
    await put(alice, 'tablet', ios()).expect(200);
    const res = await put(bob, 'phone-b', ios(token));
    expect(res.status).toBe(200);
    expect(res.body.movedFrom).toEqual([{ userId: alice, deviceId: 'phone' }]);
    expect((await list(alice)).body.devices.map((d: { deviceId: string }) => d.deviceId)).toEqual([
      'tablet',
    ]);
    expect((await list(bob)).body.devices.map((d: { deviceId: string }) => d.deviceId)).toEqual([
      'phone-b',
    ]);
    // Alice's new snapshot no longer holds the token; Bob's does.
    const aliceSnap = await snapshot('demo', alice, 3);
    expect(aliceSnap.devices.map((d) => d.deviceId)).toEqual(['tablet']);
    const bobSnap = await snapshot('demo', bob, 1);
    expect(bobSnap.devices.map((d) => d.token)).toEqual([token]);
    // Alice's snapshots arrive in version order, the newest last. A relay round that finds two
    // unsent snapshots of one user publishes only the newer (docs/token-registry.md: superseded),
    // so under load an older version may never be published.
    await waitFor(() => published('demo', alice).at(-1)?.version === 3);
    const versions = published('demo', alice).map((s) => s.version);
    expect(versions).toEqual([...versions].sort((x, y) => x - y));
    expect(new Set(versions).size).toBe(versions.length);
  });

  it('moves a token between device ids of the same user', async () => {
    const user = uniqueId('u');
    const token = apnsToken();
    await put(user, 'old-install', ios(token)).expect(200);
    const res = await put(user, 'new-install', ios(token)).expect(200);
    expect(res.body.movedFrom).toEqual([{ userId: user, deviceId: 'old-install' }]);
    const devices = (await list(user)).body.devices;
    expect(devices.map((d: { deviceId: string }) => d.deviceId)).toEqual(['new-install']);
  });

  it('evicts the least recently registered device beyond the cap', async () => {
    const user = uniqueId('u');
    for (const d of ['a', 'b', 'c']) await put(user, d, ios()).expect(200);
    await put(user, 'a', ios()).expect(200); // a is now the most recent; b the least
    const res = await put(user, 'd', ios()).expect(200);
    expect(res.body.evicted).toEqual(['b']);
    const ids = (await list(user)).body.devices.map((d: { deviceId: string }) => d.deviceId);
    expect(ids.sort()).toEqual(['a', 'c', 'd']);
    const snap = await snapshot('demo', user, 5);
    expect(snap.devices.map((d) => d.deviceId)).toEqual(['a', 'c', 'd']);
  });

  it('logs a device out; logging out again changes nothing', async () => {
    const user = uniqueId('u');
    await put(user, 'phone', ios()).expect(200);
    const del = await http().delete(devicePath(user, 'phone')).set('authorization', DEMO.auth);
    expect(del.status).toBe(204);
    expect((await list(user)).body).toEqual({ version: 2, devices: [] });
    const snap = await snapshot('demo', user, 2);
    expect(snap.devices).toEqual([]);
    await http().delete(devicePath(user, 'phone')).set('authorization', DEMO.auth).expect(204);
    expect((await list(user)).body.version).toBe(2);
  });

  it('reads and updates settings, field by field', async () => {
    const user = uniqueId('u');
    const path = `/v1/apps/demo/users/${user}/settings`;
    const initial = await http().get(path).set('authorization', DEMO.auth).expect(200);
    expect(initial.body).toEqual({
      version: 0,
      settings: {
        pushEnabled: true,
        hidePreview: false,
        snoozeUntil: null,
        dnd: null,
        sounds: { c2c: null, group: null },
        conversations: {},
        privacy: null,
      },
    });
    const first = await http()
      .put(path)
      .set('authorization', DEMO.auth)
      .send({
        hidePreview: true,
        dnd: { startSecondOfDay: 79200, durationSeconds: 28800, timeZone: 'Europe/Berlin' },
        sounds: { c2c: 'ding.aiff' },
        conversations: { 'group:g-7': 'receive_except_at', 'c2c:alice': 'receive_not_notify' },
        privacy: 'id_only',
      });
    expect(first.status).toBe(200);
    const second = await http()
      .put(path)
      .set('authorization', DEMO.auth)
      .send({
        pushEnabled: false,
        snoozeUntil: '2030-01-01T00:00:00.000Z',
        conversations: { 'c2c:alice': null },
      })
      .expect(200);
    const expected = {
      pushEnabled: false,
      hidePreview: true,
      snoozeUntil: '2030-01-01T00:00:00.000Z',
      dnd: { startSecondOfDay: 79200, durationSeconds: 28800, timeZone: 'Europe/Berlin' },
      sounds: { c2c: 'ding.aiff', group: null },
      conversations: { 'group:g-7': 'receive_except_at' },
      privacy: 'id_only',
    };
    expect(second.body).toEqual({ version: 2, settings: expected });
    expect((await http().get(path).set('authorization', DEMO.auth)).body).toEqual({
      version: 2,
      settings: expected,
    });
    expect((await snapshot('demo', user, 2)).settings).toEqual(expected);
    const badPrivacy = await http()
      .put(path)
      .set('authorization', DEMO.auth)
      .send({ privacy: 'ids' })
      .expect(400);
    expect(badPrivacy.body.errors.map((e: { field: string }) => e.field)).toEqual(['privacy']);
  });

  it("checks an APNs topic against the app's topics when the apps file lists them", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'registry-apps-'));
    const file = writeAppsFile(
      [
        {
          id: 'demo',
          apiKey: 'demo-api-key',
          apns: {
            teamId: 'TEAM123456',
            keyId: 'ABC123DEFG',
            keyFile: './demo.p8',
            topics: ['com.example.chat'],
          },
        },
      ],
      { dir },
    );
    const scoped = await startRegistry({
      PUSH_APPS_FILE: file,
      REGISTRY_OUTBOX_RELAY: 'false',
      REGISTRY_INVALIDATION_CONSUMER: 'false',
    });
    try {
      const path = devicePath(uniqueId('u'), 'phone');
      const wrong = await request(scoped.getHttpServer())
        .put(path)
        .set('authorization', DEMO.auth)
        .send({ ...ios(), topic: 'com.evil.app' });
      expect(wrong.status).toBe(400);
      expect(wrong.body.errors).toEqual([expect.objectContaining({ field: 'topic' })]);
      await request(scoped.getHttpServer())
        .put(path)
        .set('authorization', DEMO.auth)
        .send(ios())
        .expect(200);
    } finally {
      await scoped.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('authentication and tenants', () => {
    it('answers 401 without a key or with an unknown key', async () => {
      const none = await http().get('/v1/apps/demo/users/u1/devices');
      expect(none.status).toBe(401);
      expect(none.headers['content-type']).toContain('application/problem+json');
      const wrong = await list('u1', 'Bearer not-a-key');
      expect(wrong.status).toBe(401);
      expect(wrong.body.code).toBe('UNAUTHENTICATED');
    });

    it("answers 403 for another app's path, for every route", async () => {
      const user = uniqueId('u');
      await put(user, 'phone', ios()).expect(200);
      const calls = [
        put(user, 'phone', ios(), OTHER.auth),
        http().delete(devicePath(user, 'phone')).set('authorization', OTHER.auth),
        list(user, OTHER.auth),
        http().get(`/v1/apps/demo/users/${user}/settings`).set('authorization', OTHER.auth),
        http()
          .put(`/v1/apps/demo/users/${user}/settings`)
          .set('authorization', OTHER.auth)
          .send({ pushEnabled: false }),
      ];
      for (const res of await Promise.all(calls)) {
        expect(res.status).toBe(403);
        expect(res.body.code).toBe('FORBIDDEN');
      }
      // Nothing changed in demo.
      expect((await list(user)).body.devices).toHaveLength(1);
      expect((await list(user)).body.version).toBe(1);
    });

    it('keeps apps apart: the same user id and token live separately in each app', async () => {
      const user = uniqueId('u');
      const token = apnsToken();
      await put(user, 'phone', ios(token)).expect(200);
      const res = await put(user, 'phone', ios(token), OTHER.auth, OTHER.appId);
      expect(res.status).toBe(200);
      expect(res.body.movedFrom).toEqual([]);
      expect((await list(user)).body.devices).toHaveLength(1);
      expect((await list(user, OTHER.auth, OTHER.appId)).body.devices).toHaveLength(1);
      await http()
        .delete(devicePath(user, 'phone', 'other'))
        .set('authorization', OTHER.auth);
      expect((await list(user)).body.devices).toHaveLength(1);
      expect((await snapshot('other', user, 2)).devices).toEqual([]);
    });
  });

  describe('validation', () => {
    const hex = (n: number) => 'a'.repeat(n);
    const cases: Array<[string, object, string]> = [
      ['platform missing', { token: apnsToken() }, 'platform'],
      ['unknown platform', { platform: 'blackberry', token: apnsToken() }, 'platform'],
      ['APNs token not hex', { platform: 'ios', token: 'z'.repeat(64) }, 'token'],
      ['APNs token of odd length', { platform: 'ios', token: hex(65) }, 'token'],
      ['APNs token too short', { platform: 'ios', token: hex(62) }, 'token'],
      ['APNs token too long', { platform: 'ios', token: hex(202) }, 'token'],
      ['empty token', { platform: 'android', token: '' }, 'token'],
      ['FCM token with white space', { platform: 'android', token: 'abc def' }, 'token'],
      ['FCM token too long', { platform: 'android', token: 'x'.repeat(1025) }, 'token'],
      ['token not a string', { platform: 'android', token: 42 }, 'token'],
      [
        'provider against platform',
        { platform: 'ios', provider: 'fcm', token: apnsToken() },
        'provider',
      ],
      ['android with apns', { platform: 'android', provider: 'apns', token: 'x' }, 'provider'],
      [
        'unknown environment',
        { platform: 'ios', token: apnsToken(), environment: 'staging' },
        'environment',
      ],
      [
        'environment on FCM',
        { platform: 'android', token: 'x', environment: 'sandbox' },
        'environment',
      ],
      ['topic on FCM', { platform: 'web', token: 'x', topic: 'com.example' }, 'topic'],
      ['unknown push type', { platform: 'ios', token: apnsToken(), pushType: 'loud' }, 'pushType'],
      ['bad locale', { platform: 'ios', token: apnsToken(), locale: 'not a locale' }, 'locale'],
      ['unknown field', { platform: 'ios', token: apnsToken(), colour: 'red' }, '(body)'],
    ];
    it.each(cases)('rejects a device with %s', async (_name, body, field) => {
      const user = uniqueId('u');
      const res = await put(user, 'd1', body);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect((await list(user)).body).toEqual({ version: 0, devices: [] });
    });

    it('rejects ids that cannot be part of a Kafka key', async () => {
      const res = await put('bad:user', 'd1', ios());
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'userId' })]);
      const dev = await put(uniqueId('u'), 'x'.repeat(129), ios());
      expect(dev.body.errors).toEqual([expect.objectContaining({ field: 'deviceId' })]);
    });

    const settingsCases: Array<[string, object, string]> = [
      ['pushEnabled not boolean', { pushEnabled: 'yes' }, 'pushEnabled'],
      ['snoozeUntil not a date', { snoozeUntil: 'tomorrow' }, 'snoozeUntil'],
      [
        'DND start out of range',
        { dnd: { startSecondOfDay: 86400, durationSeconds: 60, timeZone: 'UTC' } },
        'dnd.startSecondOfDay',
      ],
      [
        'DND duration zero',
        { dnd: { startSecondOfDay: 0, durationSeconds: 0, timeZone: 'UTC' } },
        'dnd.durationSeconds',
      ],
      [
        'unknown time zone',
        { dnd: { startSecondOfDay: 0, durationSeconds: 60, timeZone: 'Mars/Olympus' } },
        'dnd.timeZone',
      ],
      ['empty sound', { sounds: { c2c: '' } }, 'sounds.c2c'],
      ['unknown receive option', { conversations: { 'c2c:bob': 'mute' } }, 'conversations.c2c:bob'],
      ['bad conversation key', { conversations: { 'team:x': 'receive' } }, 'conversations.team:x'],
      ['unknown setting', { vibrate: true }, '(body)'],
    ];
    it.each(settingsCases)('rejects settings with %s', async (_name, body, field) => {
      const user = uniqueId('u');
      const res = await http()
        .put(`/v1/apps/demo/users/${user}/settings`)
        .set('authorization', DEMO.auth)
        .send(body);
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    it('rejects too many conversation options at once', async () => {
      const conversations = Object.fromEntries(
        Array.from({ length: 1001 }, (_, i) => [`c2c:p${i}`, 'receive_not_notify']),
      );
      const res = await http()
        .put(`/v1/apps/demo/users/${uniqueId('u')}/settings`)
        .set('authorization', DEMO.auth)
        .send({ conversations });
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain('conversations');
    });

    it('limits the body size and rejects malformed JSON', async () => {
      const big = await put(uniqueId('u'), 'd1', { platform: 'android', token: 'x'.repeat(70000) });
      expect(big.status).toBe(413);
      expect(big.headers['content-type']).toContain('application/problem+json');
      const bad = await http()
        .put(devicePath(uniqueId('u'), 'd1'))
        .set('authorization', DEMO.auth)
        .set('content-type', 'application/json')
        .send('{"platform": ');
      expect(bad.status).toBe(400);
      expect(bad.headers['content-type']).toContain('application/problem+json');
    });
  });

  describe('hardening: bad input is a 4xx problem, never a 500', () => {
    const problem = (res: request.Response, status: number) => {
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toContain('application/problem+json');
      return res.body as { code: string; errors?: Array<{ field: string }> };
    };
    const fieldsOf = (res: request.Response) =>
      (problem(res, 400).errors ?? []).map((e) => e.field);

    it('refuses NUL and other control characters in path ids (PostgreSQL refuses NUL: was a 500)', async () => {
      expect(fieldsOf(await put('a%00b', 'd1', ios()))).toEqual(['userId']);
      expect(fieldsOf(await put(uniqueId('u'), 'd%00', ios()))).toEqual(['deviceId']);
      expect(fieldsOf(await put(uniqueId('u'), 'd%07', ios()))).toEqual(['deviceId']);
      expect(fieldsOf(await list('a%00b'))).toEqual(['userId']);
      const settings = await http()
        .put('/v1/apps/demo/users/a%00b/settings')
        .set('authorization', DEMO.auth)
        .send({ pushEnabled: false });
      expect(fieldsOf(settings)).toEqual(['userId']);
    });

    it('refuses NUL in tokens, topics, sounds and conversation keys', async () => {
      const user = uniqueId('u');
      expect(fieldsOf(await put(user, 'd1', { platform: 'android', token: 'ab\u0000c' }))).toEqual([
        'token',
      ]);
      expect(fieldsOf(await put(user, 'd1', { ...ios(), topic: 'com.example\u0000' }))).toEqual([
        'topic',
      ]);
      const path = `/v1/apps/demo/users/${user}/settings`;
      const sound = await http()
        .put(path)
        .set('authorization', DEMO.auth)
        .send({ sounds: { c2c: 'ding\u0000.aiff' } });
      expect(fieldsOf(sound)).toEqual(['sounds.c2c']);
      const key = await http()
        .put(path)
        .set('authorization', DEMO.auth)
        .send({ conversations: { 'c2c:al\u0000ice': 'receive_not_notify' } });
      expect(fieldsOf(key)).toContain('conversations.c2c:al\u0000ice');
      const longKey = `group:${'g'.repeat(129)}`;
      const tooLong = await http()
        .put(path)
        .set('authorization', DEMO.auth)
        .send({ conversations: { [longKey]: 'receive_not_notify' } });
      expect(fieldsOf(tooLong)).toContain(`conversations.${longKey}`);
      expect((await list(user)).body).toEqual({ version: 0, devices: [] });
    });

    it("keeps tokens within the unique index's 2,704-byte entries: 400 beyond, never a 500", async () => {
      const user = uniqueId('u');
      // 1,024 random non-ASCII characters: ~3 KB of UTF-8 that does not compress; the index
      // refused it with a 500 before.
      const wide = Array.from({ length: 1024 }, (_, i) =>
        String.fromCharCode(0x4e00 + ((i * 7919) % 20000)),
      ).join('');
      expect(fieldsOf(await put(user, 'd1', { platform: 'android', token: wide }))).toEqual([
        'token',
      ]);
      expect(
        fieldsOf(await put(user, 'd1', { platform: 'android', token: 'x'.repeat(1025) })),
      ).toEqual(['token']);
      // The longest token the schema allows fits the index, with an app id at its longest too.
      const longest = randomAscii(1024);
      const res = await put(user, 'd1', { platform: 'android', token: longest });
      expect(res.status).toBe(200);
      const [{ len }] = await ds.query<Array<{ len: number }>>(
        `SELECT octet_length(app_id) + octet_length(provider) + octet_length(token) AS len
         FROM registry_devices WHERE app_id = 'demo' AND user_id = $1`,
        [user],
      );
      expect(Number(len)).toBeLessThan(2704 - 384);
    });

    it('answers a 20,000-character path id with 400 naming it (not a bare 431)', async () => {
      const long = 'x'.repeat(20000);
      const byApp = await http()
        .get(`/v1/apps/${long}/users/x/devices`)
        .set('authorization', DEMO.auth);
      expect(fieldsOf(byApp)).toEqual(['appId']);
      expect(fieldsOf(await list(long))).toEqual(['userId']);
      const huge = await http().get(`/v1/apps/demo/users/${'x'.repeat(40000)}/devices`);
      expect(problem(huge, 431).code).toBe('HEADERS_TOO_LARGE');
    });

    it('answers an unknown or corrupt Content-Encoding and a 10,000-deep body with problems', async () => {
      const unknown = await http()
        .put(devicePath(uniqueId('u'), 'd1'))
        .set('authorization', DEMO.auth)
        .set('content-type', 'application/json')
        .set('content-encoding', 'x-unknown')
        .send(JSON.stringify(ios()));
      expect(problem(unknown, 415).code).toBe('UNSUPPORTED_CONTENT_ENCODING');
      const corrupt = await http()
        .put(devicePath(uniqueId('u'), 'd1'))
        .set('authorization', DEMO.auth)
        .set('content-type', 'application/json')
        .set('content-encoding', 'gzip')
        .send(JSON.stringify(ios()));
      expect(problem(corrupt, 400).code).toBe('INVALID_CONTENT_ENCODING');
      const deep = await http()
        .put(`/v1/apps/demo/users/${uniqueId('u')}/settings`)
        .set('authorization', DEMO.auth)
        .set('content-type', 'application/json')
        .send(`{"conversations":${'['.repeat(10000)}${']'.repeat(10000)}}`);
      expect(problem(deep, 400).code).toBe('JSON_TOO_DEEP');
    });

    it('stores a DND time zone in its canonical spelling, and refuses an unknown one', async () => {
      const user = uniqueId('u');
      const path = `/v1/apps/demo/users/${user}/settings`;
      const res = await http()
        .put(path)
        .set('authorization', DEMO.auth)
        .send({ dnd: { startSecondOfDay: 0, durationSeconds: 60, timeZone: 'europe/berlin' } })
        .expect(200);
      expect(res.body.settings.dnd.timeZone).toBe('Europe/Berlin');
      expect((await snapshot('demo', user, 1)).settings.dnd?.timeZone).toBe('Europe/Berlin');
      const bad = await http()
        .put(path)
        .set('authorization', DEMO.auth)
        .send({ dnd: { startSecondOfDay: 0, durationSeconds: 60, timeZone: 'Mars/Olympus' } });
      expect(fieldsOf(bad)).toEqual(['dnd.timeZone']);
    });

    it('caps the conversation options stored per user (REGISTRY_MAX_CONVERSATION_OPTIONS)', async () => {
      const capped = await startRegistry({
        REGISTRY_MAX_CONVERSATION_OPTIONS: '3',
        REGISTRY_OUTBOX_RELAY: 'false',
        REGISTRY_INVALIDATION_CONSUMER: 'false',
      });
      try {
        const path = `/v1/apps/demo/users/${uniqueId('u')}/settings`;
        const send = (conversations: object) =>
          request(capped.getHttpServer())
            .put(path)
            .set('authorization', DEMO.auth)
            .send({ conversations });
        await send({ 'c2c:a': 'receive_not_notify', 'c2c:b': 'receive_not_notify' }).expect(200);
        await send({ 'c2c:c': 'receive_except_at' }).expect(200);
        const over = await send({ 'c2c:d': 'receive_not_notify' });
        expect(fieldsOf(over)).toEqual(['conversations']);
        // Replacing one keeps the count: allowed.
        await send({ 'c2c:a': null, 'c2c:d': 'receive_not_notify' }).expect(200);
        const stored = await request(capped.getHttpServer())
          .get(path)
          .set('authorization', DEMO.auth);
        expect(Object.keys(stored.body.settings.conversations).sort()).toEqual([
          'c2c:b',
          'c2c:c',
          'c2c:d',
        ]);
      } finally {
        await capped.close();
      }
    });

    it('cancels a statement past DATABASE_STATEMENT_TIMEOUT_MS: 503 DATABASE_TIMEOUT, nothing changed', async () => {
      const quick = await startRegistry({
        DATABASE_STATEMENT_TIMEOUT_MS: '300',
        REGISTRY_OUTBOX_RELAY: 'false',
        REGISTRY_INVALIDATION_CONSUMER: 'false',
      });
      const user = uniqueId('u');
      const path = `/v1/apps/demo/users/${user}/settings`;
      await request(quick.getHttpServer())
        .put(path)
        .set('authorization', DEMO.auth)
        .send({ hidePreview: true })
        .expect(200);
      // Another session holds the user's row: the registry's lock-and-bump waits on it.
      const holder = ds.createQueryRunner();
      await holder.connect();
      await holder.startTransaction();
      await holder.query(
        `SELECT 1 FROM registry_users WHERE app_id = 'demo' AND user_id = $1 FOR UPDATE`,
        [user],
      );
      try {
        const started = Date.now();
        const res = await request(quick.getHttpServer())
          .put(path)
          .set('authorization', DEMO.auth)
          .send({ pushEnabled: false });
        expect(problem(res, 503).code).toBe('DATABASE_TIMEOUT');
        expect(res.headers['retry-after']).toBe('1');
        expect(Date.now() - started).toBeLessThan(3000);
      } finally {
        await holder.rollbackTransaction();
        await holder.release();
      }
      const after = await request(quick.getHttpServer()).get(path).set('authorization', DEMO.auth);
      expect(after.body).toMatchObject({ version: 1, settings: { pushEnabled: true } });
      await quick.close();
    });

    it('the migration to the stricter contract cleans values stored under the old rules', async () => {
      const user = uniqueId('legacy');
      const longKey = `group:${'g'.repeat(200)}`;
      await ds.query(
        `INSERT INTO registry_users (app_id, user_id, sound_c2c, conversations)
         VALUES ('demo', $1, $2, $3::jsonb)`,
        [
          user,
          'bell\u0007.aiff',
          JSON.stringify({
            [longKey]: 'receive_not_notify',
            'c2c:ok': 'receive_except_at',
            'c2c:b\u0001': 'receive_not_notify',
          }),
        ],
      );
      await ds.query(
        `INSERT INTO registry_devices (app_id, user_id, device_id, platform, provider, token, updated_at)
         VALUES ('demo', $1, 'bad', 'android', 'fcm', $2, now()), ('demo', $1, 'good', 'android', 'fcm', $3, now())`,
        [user, `tok\u00e9n-${uniqueId('t')}`, fcmToken()],
      );
      // Under the new contract the user's next change would fail its snapshot check (a 500).
      const runner = ds.createQueryRunner();
      try {
        await new ValuesWithinContract1764658800000().up(runner);
      } finally {
        await runner.release();
      }
      const res = await http()
        .put(`/v1/apps/demo/users/${user}/settings`)
        .set('authorization', DEMO.auth)
        .send({ hidePreview: true });
      expect(res.status).toBe(200);
      expect(res.body.settings).toMatchObject({
        sounds: { c2c: null },
        conversations: { 'c2c:ok': 'receive_except_at' },
      });
      expect((await list(user)).body.devices.map((d: { deviceId: string }) => d.deviceId)).toEqual([
        'good',
      ]);
    });
  });
});
