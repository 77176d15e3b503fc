import type { INestApplication } from '@nestjs/common';
import { TOPICS, type TokenUserDevices } from '@app/contracts';
import { apnsToken, testKafka, TopicRecorder, uniqueId, waitFor } from '@app/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { DEMO, migratedDataSource, OTHER, startRegistry } from './registry.fixture';

/**
 * Tags and attributes (issue 16) over the registry's real HTTP API, PostgreSQL and outbox relay:
 * what is stored, what the snapshot on token.user-devices.v1 carries, and what is refused.
 */
describe('token-registry tags and attributes', () => {
  let app: INestApplication;
  let ds: DataSource;
  let tail: TopicRecorder;
  const kafka = testKafka('registry-audience-test');

  beforeAll(async () => {
    ds = await migratedDataSource();
    tail = await TopicRecorder.start(kafka, TOPICS.tokenUserDevices.name);
    app = await startRegistry();
  });

  afterAll(async () => {
    await app?.close();
    await tail?.stop();
    await ds?.destroy();
  });

  const http = () => request(app.getHttpServer());
  const tagsPath = (user: string, app = 'demo') => `/v1/apps/${app}/users/${user}/tags`;
  const attrsPath = (user: string, app = 'demo') => `/v1/apps/${app}/users/${user}/attributes`;
  const putTags = (user: string, tags: unknown) =>
    http().put(tagsPath(user)).set('authorization', DEMO.auth).send({ tags });
  const addTags = (user: string, tags: unknown) =>
    http().post(tagsPath(user)).set('authorization', DEMO.auth).send({ tags });
  const deleteTags = (user: string, query = '') =>
    http()
      .delete(`${tagsPath(user)}${query}`)
      .set('authorization', DEMO.auth);
  const getTags = (user: string) => http().get(tagsPath(user)).set('authorization', DEMO.auth);
  const putAttrs = (user: string, attributes: unknown) =>
    http().put(attrsPath(user)).set('authorization', DEMO.auth).send({ attributes });
  const patchAttrs = (user: string, attributes: unknown) =>
    http().patch(attrsPath(user)).set('authorization', DEMO.auth).send({ attributes });
  const getAttrs = (user: string) => http().get(attrsPath(user)).set('authorization', DEMO.auth);

  const published = (user: string) =>
    tail.forKey<TokenUserDevices>(`demo:${user}`).map((r) => r.value);
  const snapshot = (user: string, version: number) =>
    waitFor(() => published(user).find((s) => s.version === version), {
      what: `snapshot v${version} of ${user}`,
    });
  const fieldsOf = (res: request.Response) => {
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body.code).toBe('VALIDATION_FAILED');
    return (res.body.errors as Array<{ field: string }>).map((e) => e.field);
  };

  it('sets tags and attributes, answers and publishes them with the rest of the snapshot', async () => {
    const user = uniqueId('u');
    expect((await getTags(user)).body).toEqual({ version: 0, tags: [] });
    expect((await getAttrs(user)).body).toEqual({ version: 0, attributes: {} });
    await http()
      .put(`/v1/apps/demo/users/${user}/devices/phone`)
      .set('authorization', DEMO.auth)
      .send({ platform: 'ios', token: apnsToken(), topic: 'com.example.chat' })
      .expect(200);

    const tags = await putTags(user, ['vip', 'city:berlin', 'vip', 'Beta_1']);
    expect(tags.status).toBe(200);
    expect(tags.body).toEqual({ version: 2, tags: ['Beta_1', 'city:berlin', 'vip'] });
    // (Waited for before the next change: the relay publishes only a user's newest snapshot.)
    const v2 = await snapshot(user, 2);
    expect(v2.tags).toEqual(['Beta_1', 'city:berlin', 'vip']);
    expect(v2.attributes).toBeUndefined();
    const attrs = await putAttrs(user, { plan: 'pro', city: 'Berlin', nickname: 'Zo\u00eb' });
    expect(attrs.status).toBe(200);
    expect(attrs.body).toEqual({
      version: 3,
      attributes: { city: 'Berlin', nickname: 'Zo\u00eb', plan: 'pro' },
    });
    // GET answers the user's version (the attributes change made it 3).
    expect((await getTags(user)).body).toEqual({ ...tags.body, version: 3 });
    expect((await getAttrs(user)).body).toEqual(attrs.body);

    const v3 = await snapshot(user, 3);
    expect(v3).toMatchObject({
      tags: ['Beta_1', 'city:berlin', 'vip'],
      attributes: { city: 'Berlin', nickname: 'Zo\u00eb', plan: 'pro' },
      settings: { pushEnabled: true },
    });
    expect(v3.devices.map((d) => d.deviceId)).toEqual(['phone']);
    expect(TOPICS.tokenUserDevices.schema.parse(v3)).toEqual(v3);
  });

  it('keeps tags and attributes in every later snapshot (device and settings changes too)', async () => {
    const user = uniqueId('u');
    await putTags(user, ['vip']).expect(200);
    await putAttrs(user, { city: 'berlin' }).expect(200);
    await http()
      .put(`/v1/apps/demo/users/${user}/settings`)
      .set('authorization', DEMO.auth)
      .send({ pushEnabled: false })
      .expect(200);
    await http()
      .put(`/v1/apps/demo/users/${user}/devices/phone`)
      .set('authorization', DEMO.auth)
      .send({ platform: 'android', token: `fcm-${uniqueId('t')}` })
      .expect(200);
    // (The relay publishes only the newest of a user's unsent snapshots: wait for the last.)
    const last = await snapshot(user, 4);
    expect(last).toMatchObject({
      tags: ['vip'],
      attributes: { city: 'berlin' },
      settings: { pushEnabled: false },
    });
    expect(last.devices.map((d) => d.deviceId)).toEqual(['phone']);
  });

  it('adds tags, removes named ones, then all of them (the snapshot then has no tags field)', async () => {
    const user = uniqueId('u');
    await putTags(user, ['a', 'b']).expect(200);
    expect((await addTags(user, ['c', 'a'])).body).toEqual({ version: 2, tags: ['a', 'b', 'c'] });
    const named = await deleteTags(user, '?tag=a&tag=c&tag=not-there');
    expect(named.status).toBe(200);
    expect(named.body).toEqual({ version: 3, tags: ['b'] });
    expect((await snapshot(user, 3)).tags).toEqual(['b']);
    expect((await deleteTags(user, '?tag=b')).body).toEqual({ version: 4, tags: [] });
    const v4 = await snapshot(user, 4);
    expect(v4).not.toHaveProperty('tags');
    // All of them, without a `tag` parameter.
    await putTags(user, ['x', 'y']).expect(200);
    expect((await deleteTags(user)).body).toEqual({ version: 6, tags: [] });
    expect(await snapshot(user, 6)).not.toHaveProperty('tags');
  });

  it('merges attributes with PATCH (null removes one) and replaces them with PUT', async () => {
    const user = uniqueId('u');
    await putAttrs(user, { city: 'berlin', plan: 'free' }).expect(200);
    const merged = await patchAttrs(user, { plan: 'pro', lang: 'de', city: null });
    expect(merged.body).toEqual({ version: 2, attributes: { lang: 'de', plan: 'pro' } });
    expect((await snapshot(user, 2)).attributes).toEqual({ lang: 'de', plan: 'pro' });
    expect((await putAttrs(user, {})).body).toEqual({ version: 3, attributes: {} });
    expect(await snapshot(user, 3)).not.toHaveProperty('attributes');
  });

  it('publishes nothing for a change that changes nothing', async () => {
    const user = uniqueId('u');
    await putTags(user, ['vip']).expect(200);
    await snapshot(user, 1);
    // Same set in another order, an addition of what is there, a removal of what is not.
    expect((await putTags(user, ['vip', 'vip'])).body).toEqual({ version: 1, tags: ['vip'] });
    expect((await addTags(user, ['vip'])).body).toEqual({ version: 1, tags: ['vip'] });
    expect((await deleteTags(user, '?tag=other')).body).toEqual({ version: 1, tags: ['vip'] });
    expect((await patchAttrs(user, { gone: null })).body).toEqual({ version: 1, attributes: {} });
    // Nothing for a user never seen either (no row, no snapshot).
    const ghost = uniqueId('u');
    expect((await deleteTags(ghost)).body).toEqual({ version: 0, tags: [] });
    expect((await getTags(ghost)).body).toEqual({ version: 0, tags: [] });
    // The next real change is version 2: no snapshot was written in between.
    expect((await addTags(user, ['new'])).body.version).toBe(2);
    await snapshot(user, 2);
    await sleep(300);
    // (A relay may publish a version twice after a failure; never one in between.)
    expect([...new Set(published(user).map((s) => s.version))]).toEqual([1, 2]);
    expect(published(ghost)).toEqual([]);
  });

  describe('bad input is a 400 naming the field, and changes nothing', () => {
    const fifty = Array.from({ length: 50 }, (_, i) => `t${i.toString().padStart(2, '0')}`);

    it.each<[string, unknown, string]>([
      ['a tag with a space', ['ok', 'a b'], 'tags.1'],
      ['an empty tag', [''], 'tags.0'],
      ['a 65-character tag', ['t'.repeat(65)], 'tags.0'],
      ['a NUL in a tag', ['a\u0000'], 'tags.0'],
      ['a non-ASCII tag', ['caf\u00e9'], 'tags.0'],
      ['51 tags', [...fifty, 'zz'], 'tags'],
      ['tags not a list', 'vip', 'tags'],
    ])('PUT tags: %s', async (_name, tags, field) => {
      const user = uniqueId('u');
      expect(fieldsOf(await putTags(user, tags))).toContain(field);
      expect((await getTags(user)).body).toEqual({ version: 0, tags: [] });
    });

    it.each<[string, string, string]>([
      ['a misspelt parameter (never "remove all")', '?tags=vip', 'tags'],
      ['a bad tag', '?tag=a%20b', 'tag.0'],
      ['an empty tag', '?tag=', 'tag.0'],
    ])('DELETE tags: %s', async (_name, query, field) => {
      const user = uniqueId('u');
      await putTags(user, ['vip']).expect(200);
      expect(fieldsOf(await deleteTags(user, query))).toContain(field);
      expect((await getTags(user)).body).toEqual({ version: 1, tags: ['vip'] });
    });

    it.each<[string, unknown, string]>([
      ['a value too long', { city: 'b'.repeat(129) }, 'attributes.city'],
      ['a number value', { age: 42 }, 'attributes.age'],
      ['null (PUT replaces: leave the name out)', { city: null }, 'attributes.city'],
      ['a control character', { city: 'a\u001b' }, 'attributes.city'],
      ['a name with a space', { 'home town': 'x' }, 'attributes.home town'],
      ['a 33-character name', { ['k'.repeat(33)]: 'x' }, `attributes.${'k'.repeat(33)}`],
      ['21 attributes', Object.fromEntries(fifty.slice(0, 21).map((t) => [t, 'v'])), 'attributes'],
    ])('PUT attributes: %s', async (_name, attributes, field) => {
      const user = uniqueId('u');
      expect(fieldsOf(await putAttrs(user, attributes))).toContain(field);
      expect((await getAttrs(user)).body).toEqual({ version: 0, attributes: {} });
    });

    it('refuses the attribute name __proto__ (it would silently not be stored)', async () => {
      const res = await http()
        .put(attrsPath(uniqueId('u')))
        .set('authorization', DEMO.auth)
        .set('content-type', 'application/json')
        .send('{"attributes":{"__proto__":"x"}}');
      expect(fieldsOf(res)).toEqual(['attributes.__proto__']);
    });

    it('refuses unknown body fields and bad path ids', async () => {
      const user = uniqueId('u');
      const extra = await http()
        .put(tagsPath(user))
        .set('authorization', DEMO.auth)
        .send({ tags: [], attributes: {} });
      expect(fieldsOf(extra)).toEqual(['(body)']);
      expect(fieldsOf(await http().get(tagsPath('a%00b')).set('authorization', DEMO.auth))).toEqual(
        ['userId'],
      );
      expect(fieldsOf(await putTags('bad:user', ['vip']))).toEqual(['userId']);
    });
  });

  describe('limits on what a user holds', () => {
    it('refuses adding tags past 50 (naming tags), keeps the 50', async () => {
      const user = uniqueId('u');
      const fifty = Array.from({ length: 50 }, (_, i) => `t${i.toString().padStart(2, '0')}`);
      expect((await putTags(user, fifty)).body.tags).toHaveLength(50);
      const over = await addTags(user, ['zz']);
      expect(fieldsOf(over)).toEqual(['tags']);
      expect(over.body.errors[0].message).toContain('would store 51');
      expect((await getTags(user)).body).toEqual({ version: 1, tags: fifty });
      // Adding one that is there already is fine at the cap.
      await addTags(user, ['t00']).expect(200);
    });

    it('refuses merging attributes past 20 (naming attributes), keeps the 20', async () => {
      const user = uniqueId('u');
      const twenty = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v']));
      await putAttrs(user, twenty).expect(200);
      expect(fieldsOf(await patchAttrs(user, { k99: 'v' }))).toEqual(['attributes']);
      // Replacing a value and removing one to add another in the same request stay within it.
      const swapped = await patchAttrs(user, { k0: 'w', k1: null, k99: 'v' });
      expect(swapped.status).toBe(200);
      expect(Object.keys(swapped.body.attributes)).toHaveLength(20);
      expect(swapped.body.attributes).toMatchObject({ k0: 'w', k99: 'v' });
    });

    it('takes tags and attributes at their longest and publishes them', async () => {
      const user = uniqueId('u');
      const tags = Array.from({ length: 50 }, (_, i) =>
        `${i.toString().padStart(2, '0')}`.padEnd(64, '@'),
      );
      const attributes = Object.fromEntries(
        Array.from({ length: 20 }, (_, i) => [`${i}`.padEnd(32, '-'), '\u6771'.repeat(128)]),
      );
      await putTags(user, tags).expect(200);
      await putAttrs(user, attributes).expect(200);
      expect(await snapshot(user, 2)).toMatchObject({ tags, attributes });
    });
  });

  it('answers 401 without a key and 403 for another app, on every route', async () => {
    const user = uniqueId('u');
    await putTags(user, ['vip']).expect(200);
    const as = (auth?: string) => {
      const r = (t: request.Test) => (auth ? t.set('authorization', auth) : t);
      return [
        r(http().get(tagsPath(user))),
        r(http().put(tagsPath(user)).send({ tags: [] })),
        r(
          http()
            .post(tagsPath(user))
            .send({ tags: ['x'] }),
        ),
        r(http().delete(tagsPath(user))),
        r(http().get(attrsPath(user))),
        r(http().put(attrsPath(user)).send({ attributes: {} })),
        r(
          http()
            .patch(attrsPath(user))
            .send({ attributes: { a: 'b' } }),
        ),
      ];
    };
    for (const res of await Promise.all(as())) expect(res.status).toBe(401);
    for (const res of await Promise.all(as(OTHER.auth))) {
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('FORBIDDEN');
    }
    expect((await getTags(user)).body).toEqual({ version: 1, tags: ['vip'] });
  });
});
