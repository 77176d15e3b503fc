import type { INestApplication } from '@nestjs/common';
import type { PushOutcome } from '@app/contracts';
import { uniqueId } from '@app/testing';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { OutcomeStore } from '@apps/delivery-reports/store/outcome.store';
import { outcomeRow } from '@apps/delivery-reports/store/outcome-rows';
import {
  DEMO,
  dropSchema,
  migratedDataSource,
  OTHER,
  outcome,
  startReports,
  testSchema,
} from './reports.fixture';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface Item {
  jobId: string;
  userId: string;
  deviceId: string | null;
  status: string;
  code: string | null;
  decidedAt: string;
  latencyMs: number | null;
}
interface Page {
  items: Item[];
  nextCursor: string | null;
}
interface StatsRow {
  bucket: string;
  provider?: string | null;
  status?: string;
  reason?: string | null;
  count: number;
  latencyAvgMs: number | null;
  latencyMaxMs: number | null;
}

/** The HTTP API over outcomes stored through the real store path (the consumer is off here). */
describe('delivery-reports API', () => {
  const schema = testSchema();
  let app: INestApplication;
  let ds: DataSource;
  const now = Date.now();
  const messageId = uniqueId('msg');
  const userId = uniqueId('user');

  /** Recipients of one message: 3 users, 7 devices, every kind of outcome. */
  const recipients: PushOutcome[] = [
    outcome({ messageId, userId: 'alice', deviceId: 'a1', provider: 'apns' }),
    outcome({
      messageId,
      userId: 'alice',
      deviceId: 'a2',
      provider: 'fcm',
      status: 'suppressed',
      code: 'online_foreground',
      reason: 'the app is in the foreground',
      attempts: 0,
      latencyMs: null,
    }),
    outcome({
      messageId,
      userId: 'bob',
      deviceId: 'b1',
      provider: 'fcm',
      status: 'invalid_token',
      code: 'UNREGISTERED',
      reason: 'Requested entity was not found.',
    }),
    outcome({
      messageId,
      userId: 'bob',
      deviceId: 'b2',
      provider: 'apns',
      status: 'rejected',
      code: 'PayloadTooLarge',
      attempts: 1,
    }),
    outcome({
      messageId,
      userId: 'bob',
      deviceId: 'b3',
      provider: 'apns',
      status: 'expired',
      code: 'ttl_elapsed',
      attempts: 3,
      latencyMs: 90_000,
    }),
    outcome({
      messageId,
      userId: 'carol',
      deviceId: null,
      provider: null,
      status: 'suppressed',
      code: 'no_devices',
      attempts: 0,
      latencyMs: null,
    }),
    outcome({
      messageId,
      userId: 'carol',
      deviceId: 'c1',
      provider: 'fcm',
      status: 'failed',
      code: 'UNAVAILABLE',
      attempts: 5,
    }),
  ];
  /** One user's pushes over the last three days, an hour apart at most. */
  const history: PushOutcome[] = Array.from({ length: 12 }, (_, i) =>
    outcome({
      userId,
      messageId: `h-${i}`,
      at: new Date(now - i * 5 * HOUR - 1000).toISOString(),
      status: i % 3 === 0 ? 'suppressed' : 'delivered',
      code: i % 3 === 0 ? 'dnd' : null,
      latencyMs: i % 3 === 0 ? null : 100 + i,
    }),
  );
  /** App `other`'s outcomes for /stats: spread over minutes, hours and three days. */
  const providers = ['apns', 'fcm', null] as const;
  const statuses = ['delivered', 'suppressed', 'failed'] as const;
  const spread: PushOutcome[] = Array.from({ length: 150 }, (_, i) =>
    outcome({
      appId: OTHER.appId,
      userId: `s${i % 9}`,
      provider: providers[i % 3],
      deviceId: providers[i % 3] ? 'd' : null,
      status: statuses[(i >> 1) % 3],
      code: i % 4 === 0 ? null : `c${i % 4}`,
      latencyMs: i % 5 === 0 ? null : (i * 37) % 1000,
      at: new Date(now - (i % 3) * 26 * HOUR - ((i * 7) % 50) * MINUTE - i * 1000).toISOString(),
    }),
  );

  beforeAll(async () => {
    ds = await migratedDataSource(schema);
    app = await startReports(schema, { DELIVERY_REPORTS_STORE_CONSUMER: 'false' });
    const store = app.get(OutcomeStore);
    const rows = [...recipients, ...history, ...spread].map(outcomeRow);
    expect(await store.store(rows)).toBe(rows.length);
    // Stored again (a redelivered batch): nothing new, nothing counted twice.
    expect(await store.store(rows)).toBe(0);
  });

  afterAll(async () => {
    await app?.close();
    await dropSchema(ds, schema);
  });

  const get = (path: string, auth = DEMO.auth) =>
    request(app.getHttpServer()).get(path).set('authorization', auth);

  /** Every page of a listing, following nextCursor. */
  const allPages = async (path: string, limit: number): Promise<Page[]> => {
    const pages: Page[] = [];
    let cursor: string | null = null;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const after: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = (await get(`${path}${sep}limit=${limit}${after}`).expect(200)).body as Page;
      pages.push(page);
      cursor = page.nextCursor;
    } while (cursor && pages.length < 50);
    return pages;
  };

  describe('outcomes', () => {
    it("lists every recipient device's outcome of a message, by user, a page at a time", async () => {
      const pages = await allPages(`/v1/apps/demo/messages/${messageId}/outcomes`, 3);
      expect(pages.map((p) => p.items.length)).toEqual([3, 3, 1]);
      expect(pages[2].nextCursor).toBeNull();
      const items = pages.flatMap((p) => p.items);
      expect(items.map((i) => i.userId)).toEqual([
        'alice',
        'alice',
        'bob',
        'bob',
        'bob',
        'carol',
        'carol',
      ]);
      expect(new Set(items.map((i) => i.jobId)).size).toBe(7);
      const byDevice = new Map(items.map((i) => [i.deviceId, i]));
      expect(byDevice.get('a2')).toMatchObject({
        status: 'suppressed',
        code: 'online_foreground',
        reason: 'the app is in the foreground',
        provider: 'fcm',
        attempts: 0,
        latencyMs: null,
      });
      expect(byDevice.get(null)).toMatchObject({
        userId: 'carol',
        status: 'suppressed',
        code: 'no_devices',
      });
      expect(byDevice.get('b3')).toMatchObject({
        status: 'expired',
        attempts: 3,
        latencyMs: 90_000,
      });
      // decidedAt: the outcome's `at` minus its latency (when routing decided).
      const b3 = recipients.find((r) => r.deviceId === 'b3')!;
      expect(Date.parse(byDevice.get('b3')!.decidedAt)).toBe(Date.parse(b3.at) - 90_000);
      // The whole message in one page: the same items.
      const one = await get(`/v1/apps/demo/messages/${messageId}/outcomes?limit=500`).expect(200);
      expect((one.body as Page).items).toEqual(items);
      expect((one.body as Page).nextCursor).toBeNull();
    });

    it("lists a user's recent outcomes newest first, since a time, a page at a time", async () => {
      const pages = await allPages(`/v1/apps/demo/users/${userId}/outcomes`, 5);
      expect(pages.map((p) => p.items.length)).toEqual([5, 5, 2]);
      const items = pages.flatMap((p) => p.items);
      expect(items.map((i) => i.jobId)).toEqual(history.map((h) => h.jobId));
      expect(items[0]).toMatchObject({ status: 'suppressed', code: 'dnd' });
      const since = new Date(now - 24 * HOUR).toISOString();
      const recent = await allPages(
        `/v1/apps/demo/users/${userId}/outcomes?since=${encodeURIComponent(since)}`,
        2,
      );
      const expected = history.filter(
        (h) => Date.parse(h.at) - (h.latencyMs ?? 0) >= Date.parse(since),
      );
      expect(expected.length).toBe(5);
      expect(recent.flatMap((p) => p.items).map((i) => i.jobId)).toEqual(
        expected.map((h) => h.jobId),
      );
      // Another app's key sees nothing of demo's user, even under the same user id.
      const other = await get(`/v1/apps/other/users/${userId}/outcomes`, OTHER.auth).expect(200);
      expect(other.body).toEqual({ items: [], nextCursor: null });
    });
  });

  describe('stats', () => {
    /** What the stored rows of app `other` say, bucketed and grouped here. */
    const expected = async (interval: number, from: number, to: number, dims: string[]) => {
      const rows: {
        at: Date;
        provider: string | null;
        status: string;
        code: string | null;
        latency_ms: number | null;
      }[] = await ds.query(
        `SELECT at, provider, status, code, latency_ms FROM "${schema}".outcomes WHERE app_id = $1`,
        [OTHER.appId],
      );
      const groups = new Map<string, StatsRow & { n: number; sum: number }>();
      for (const r of rows) {
        const t = r.at.getTime();
        if (t < from || t >= to) continue;
        const bucket = new Date(Math.floor(t / interval) * interval).toISOString();
        const g: Record<string, string | null> = {
          provider: r.provider,
          status: r.status,
          reason: r.code,
        };
        const key = [bucket, ...dims.map((d) => g[d])].join('|');
        const e = groups.get(key) ?? {
          bucket,
          ...Object.fromEntries(dims.map((d) => [d, g[d]])),
          count: 0,
          latencyAvgMs: null,
          latencyMaxMs: null,
          n: 0,
          sum: 0,
        };
        e.count++;
        if (r.latency_ms !== null) {
          e.n++;
          e.sum += r.latency_ms;
          e.latencyMaxMs = Math.max(e.latencyMaxMs ?? 0, r.latency_ms);
          e.latencyAvgMs = e.sum / e.n;
        }
        groups.set(key, e);
      }
      return [...groups.values()].map(({ n: _n, sum: _s, ...row }) => row);
    };
    const keyOf = (r: StatsRow) =>
      [r.bucket, r.provider ?? '-', r.status ?? '-', r.reason ?? '-'].join('|');
    const sortRows = (rows: StatsRow[]) =>
      [...rows].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));

    it.each([
      ['day', 86_400_000, 5, ''],
      ['day', 86_400_000, 5, 'provider,status,reason'],
      ['hour', HOUR, 4 * 24, 'status'],
      ['hour', HOUR, 4 * 24, 'reason,provider'],
      ['minute', MINUTE, 1440, 'provider'],
      ['minute', MINUTE, 1440, ''],
    ] as const)(
      'per %s (%d ms × %d buckets) grouped by "%s" matches the stored rows',
      async (interval, ms, buckets, groupBy) => {
        const to = Math.floor(now / ms) * ms + ms;
        const from = to - buckets * ms;
        const r = await get(
          `/v1/apps/other/stats?interval=${interval}&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}${groupBy ? `&groupBy=${groupBy}` : ''}`,
          OTHER.auth,
        ).expect(200);
        const dims = groupBy
          ? groupBy
              .split(',')
              .sort(
                (a, b) =>
                  ['provider', 'status', 'reason'].indexOf(a) -
                  ['provider', 'status', 'reason'].indexOf(b),
              )
          : [];
        expect(r.body).toMatchObject({
          appId: 'other',
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
          interval,
          groupBy: dims,
        });
        const want = await expected(ms, from, to, dims);
        expect(want.length).toBeGreaterThan(1);
        const got = (r.body as { rows: StatsRow[] }).rows.map((row) => ({
          ...row,
          latencyAvgMs:
            row.latencyAvgMs === null ? null : Math.round(row.latencyAvgMs * 1000) / 1000,
        }));
        expect(sortRows(got)).toEqual(
          sortRows(
            want.map((w) => ({
              ...w,
              latencyAvgMs:
                w.latencyAvgMs === null ? null : Math.round(w.latencyAvgMs * 1000) / 1000,
            })),
          ),
        );
        expect((r.body as { total: number }).total).toBe(want.reduce((n, w) => n + w.count, 0));
      },
    );

    it('counts every stored outcome once over the whole range', async () => {
      const r = await get(
        '/v1/apps/other/stats?interval=day&from=2000-01-01T00:00:00Z&to=2000-12-31T00:00:00Z',
        OTHER.auth,
      ).expect(200);
      expect(r.body.total).toBe(0);
      const all = await get(
        `/v1/apps/other/stats?interval=day&from=${new Date(now - 5 * 86_400_000).toISOString()}`,
        OTHER.auth,
      ).expect(200);
      expect(all.body.total).toBe(spread.length);
    });
  });

  describe('bad requests', () => {
    it.each([
      [`/v1/apps/demo/messages/m/outcomes?limit=0`, 'limit'],
      [`/v1/apps/demo/messages/m/outcomes?limit=501`, 'limit'],
      [`/v1/apps/demo/messages/m/outcomes?limit=ten`, 'limit'],
      [`/v1/apps/demo/messages/m/outcomes?cursor=not-a-cursor`, 'cursor'],
      [`/v1/apps/demo/messages/m%01x/outcomes`, 'messageId'],
      [`/v1/apps/demo/users/u:1/outcomes`, 'userId'],
      [`/v1/apps/demo/users/u/outcomes?since=yesterday`, 'since'],
      [`/v1/apps/demo/stats?interval=week`, 'interval'],
      [`/v1/apps/demo/stats?groupBy=token`, 'groupBy'],
      [`/v1/apps/demo/stats?groupBy=status,status`, 'groupBy'],
      [`/v1/apps/demo/stats?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z`, 'from'],
      [
        `/v1/apps/demo/stats?interval=minute&from=2026-01-01T00:00:00Z&to=2026-01-03T00:00:00Z`,
        'from',
      ],
      [`/v1/apps/demo/stats?to=soon`, 'to'],
    ])('%s → 400 naming %s', async (path, field) => {
      const r = await get(path).expect(400);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(r.body.code).toBe('VALIDATION_FAILED');
      expect(r.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    it("refuses another listing's cursor", async () => {
      const page = await get(`/v1/apps/demo/users/${userId}/outcomes?limit=1`).expect(200);
      const r = await get(
        `/v1/apps/demo/messages/${messageId}/outcomes?cursor=${page.body.nextCursor}`,
      ).expect(400);
      expect(r.body.errors).toEqual([
        { field: 'cursor', message: 'not a nextCursor of this listing' },
      ]);
    });

    it('answers 401 without a valid key and 403 for another app, on every route', async () => {
      for (const path of [
        `/v1/apps/demo/messages/${messageId}/outcomes`,
        `/v1/apps/demo/users/${userId}/outcomes`,
        '/v1/apps/demo/stats',
      ]) {
        const none = await request(app.getHttpServer()).get(path).expect(401);
        expect(none.headers['content-type']).toMatch(/^application\/problem\+json/);
        await get(path, 'Bearer not-a-key').expect(401);
        const forbidden = await get(path, OTHER.auth).expect(403);
        expect(forbidden.body.code).toBe('FORBIDDEN');
      }
    });
  });
});
