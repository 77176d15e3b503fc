import type { FcmRequest } from '@app/contracts';
import { dispatchMetrics } from '@app/dispatch';
import { AppsRegistry, loadAppsFile } from '@app/config';
import { fcmAtFake, uniqueId, waitFor, writeAppsFile } from '@app/testing';
import { register } from 'prom-client';
import { FcmApps } from '@apps/fcm-dispatcher/firebase/fcm-apps';
import { RetryAfterTracker } from '@apps/fcm-dispatcher/firebase/retry-after.tracker';
import { FcmSender } from '@apps/fcm-dispatcher/sending/fcm.sender';
import { startFcmFixture, type FcmFixture } from './fcm-fixture';
import { TcpTap } from './tcp-tap';

/**
 * The sender through the real firebase-admin against the fake: how each FCM answer is classified,
 * batches of at most 500 per sendEach, and Retry-After read off the wire.
 */
describe('FcmSender against the fake FCM', () => {
  let fx: FcmFixture;
  let apps: FcmApps;
  let tracker: RetryAfterTracker;
  let sender: FcmSender;

  beforeAll(async () => {
    fx = await startFcmFixture();
    apps = new FcmApps(fx.apps, { maxSockets: 32 });
    tracker = new RetryAfterTracker().start();
    sender = new FcmSender(apps, tracker, {
      batchSize: 500,
      batchesInFlight: 4,
      // Generous: 500 messages a call on a loaded 2-core box; the deadline test has its own.
      sendTimeoutMs: 10_000,
      quotaMinDelayMs: 60_000,
    });
  });

  afterAll(async () => {
    tracker?.stop();
    await apps?.close();
    await fx?.fake.stop();
  });

  const request = (token: string, over: Partial<FcmRequest> = {}): FcmRequest => ({
    jobId: uniqueId('job'),
    appId: fx.appId,
    userId: 'u1',
    deviceId: 'd1',
    messageId: 'm1',
    token,
    createdAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    attempt: 0,
    message: { data: { body: 'hi' }, android: { priority: 'high', ttl: '600s' } },
    ...over,
  });

  it('classifies every FCM answer, through firebase-admin', async () => {
    const id = uniqueId('t');
    const reqs = [
      request(`ok-${id}-000001`),
      request(`fake-unregistered-${id}`),
      request('bad token!'), // the fake's token check: INVALID_ARGUMENT about the token
      request(`ok-${id}-payload`, { message: { data: { a: '1' }, foo: 1 } }), // about the payload
      request(`ok-${id}-size`, { message: { data: { big: 'x'.repeat(5000) } } }),
      request(`fake-mismatch-${id}`),
      request(`fake-quota-7-${id}`),
      request(`fake-unavailable-${id}`),
      request(`fake-internal-${id}`),
      request(`fake-auth-${id}`),
      request(`ok-${id}-noapp`, { appId: uniqueId('nofcm') }),
    ];
    const authBefore = await counterValue('push_dispatch_auth_failures_total', {
      app: fx.appId,
      reason: 'mismatched_credential',
    });
    const started = Date.now();
    const res = await sender.send(reqs);
    expect(res[0]).toMatchObject({ kind: 'delivered' });
    expect(res[1]).toMatchObject({
      kind: 'invalid_token',
      code: 'UNREGISTERED',
      invalidation: { reason: 'unregistered' },
    });
    expect(res[2]).toMatchObject({
      kind: 'invalid_token',
      code: 'INVALID_ARGUMENT',
      invalidation: { reason: 'invalid_argument' },
    });
    expect(res[3]).toMatchObject({
      kind: 'rejected',
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('Unknown name "foo"'),
    });
    expect(res[4]).toMatchObject({ kind: 'rejected', message: expect.stringContaining('too big') });
    expect(res[5]).toMatchObject({ kind: 'rejected', code: 'SENDER_ID_MISMATCH' });
    expect(res[6]).toMatchObject({
      kind: 'retry',
      code: 'MESSAGE_RATE_EXCEEDED',
      minDelayMs: 60_000,
    });
    // Retry-After: 7 from the 429, read off the wire although firebase-admin drops headers.
    const ra = res[6].kind === 'retry' ? res[6].retryAfterMs : undefined;
    expect(ra).toBeGreaterThan(7000 - (Date.now() - started) - 1000);
    expect(ra).toBeLessThanOrEqual(7000);
    expect(res[7]).toMatchObject({ kind: 'retry', code: 'SERVER_UNAVAILABLE' });
    expect(res[8]).toMatchObject({ kind: 'retry', code: 'INTERNAL_ERROR' });
    expect(res[9]).toMatchObject({ kind: 'retry', code: 'THIRD_PARTY_AUTH_ERROR' });
    expect(res[10]).toMatchObject({ kind: 'failed', code: 'APP_NOT_CONFIGURED' });
    // firebase-admin's own 503 retries are off: the fake saw the unavailable token once.
    expect(fx.fake.sendsTo(`fake-unavailable-${id}`)).toHaveLength(1);
    expect(
      await counterValue('push_dispatch_auth_failures_total', {
        app: fx.appId,
        reason: 'mismatched_credential',
      }),
    ).toBe(authBefore + 1);
  });

  it('a call past the send timeout aborts its open request (the dispatcher closes the connection) and retries it; answered messages keep their answer', async () => {
    // A tenant of its own whose traffic (token request and sends) goes through a TCP tap in
    // front of the fake: the tap sees which side gives a connection up, and when.
    const endpoint = fx.fake.endpoint();
    const tap = await new TcpTap(endpoint.host, endpoint.port).start();
    const appId = uniqueId('fcmtap');
    const projectId = `${appId}-project`;
    const file = writeAppsFile(
      [{ id: appId, fcm: fcmAtFake(fx.fake, projectId, fx.dir, { ...endpoint, port: tap.port }) }],
      { dir: fx.dir },
    );
    const tapApps = new FcmApps(new AppsRegistry(loadAppsFile(file)), { maxSockets: 8 });
    const timed = new FcmSender(tapApps, tracker, {
      batchSize: 500,
      batchesInFlight: 1,
      sendTimeoutMs: 2000,
      quotaMinDelayMs: 60_000,
    });
    try {
      const id = uniqueId('slow');
      const slow = `fake-slow-8000-${id}`;
      // Warm: the access token fetched and a connection open, so that only the slow send is slow.
      expect((await timed.send([request(`ok-${id}-warm`, { appId })]))[0]).toMatchObject({
        kind: 'delivered',
      });
      const closedBefore = tap.connections.filter((c) => c.clientClosedAt !== undefined).length;
      const abortedBefore = await counterValue('push_fcm_requests_aborted_total', { app: appId });
      const started = Date.now();
      const res = await timed.send([
        request(`ok-${id}-000001`, { appId }),
        request(slow, { appId }),
      ]);
      const took = Date.now() - started;
      // Answered at the deadline, not when the fake would have answered (8 s).
      expect(took).toBeGreaterThanOrEqual(2000);
      expect(took).toBeLessThan(4000);
      expect(res[0]).toMatchObject({ kind: 'delivered' });
      expect(res[1]).toMatchObject({
        kind: 'retry',
        code: 'NETWORK_TIMEOUT',
        message: expect.stringContaining('FCM sendEach did not answer within 2000 ms'),
      });
      // The slow request's connection was closed by the dispatcher at the deadline: the request
      // was aborted, not left running on its socket after the send slot was freed.
      // (The tap hears of the close a moment later, through the loopback.)
      const givenUp = await waitFor(
        () => {
          const closed = tap.connections.filter(
            (c) => c.clientClosedAt !== undefined && c.serverClosedAt === undefined,
          );
          return closed.length ? closed : undefined;
        },
        {
          what: `a connection closed by the dispatcher: ${JSON.stringify(tap.connections)}`,
          timeoutMs: 3000,
        },
      );
      expect(givenUp).toHaveLength(1);
      expect(closedBefore).toBe(0);
      expect(givenUp[0].clientClosedAt! - started).toBeGreaterThanOrEqual(2000);
      expect(givenUp[0].clientClosedAt! - started).toBeLessThan(4000);
      expect(await counterValue('push_fcm_requests_aborted_total', { app: appId })).toBe(
        abortedBefore + 1,
      );
      // Retried, it goes out again as a new request (and is answered this time).
      fx.fake.rule(slow, { kind: 'ok' });
      const again = await timed.send([request(slow, { appId })]);
      expect(again[0]).toMatchObject({ kind: 'delivered' });
    } finally {
      await tapApps.close();
      await tap.stop();
    }
  });

  it('splits one app into sendEach calls of at most 500 and answers each message in order', async () => {
    const id = uniqueId('split');
    const reqs = Array.from({ length: 1201 }, (_, i) =>
      request(i % 400 === 7 ? `fake-unregistered-${id}-${i}` : `ok-${id}-${i}`),
    );
    const before = await histogramCount('push_fcm_send_each_messages', fx.appId);
    const res = await sender.send(reqs);
    expect(res).toHaveLength(1201);
    res.forEach((r, i) => expect(r.kind).toBe(i % 400 === 7 ? 'invalid_token' : 'delivered'));
    // firebase-admin refuses more than 500 per sendEach: three calls, 500 + 500 + 201.
    expect((await histogramCount('push_fcm_send_each_messages', fx.appId)) - before).toBe(3);
    expect(
      new Set(fx.fake.received.filter((r) => r.token?.includes(id)).map((r) => r.token)).size,
    ).toBe(1201);
    expect(dispatchMetrics).toBeDefined();
  });
});

async function counterValue(name: string, labels: Record<string, string>): Promise<number> {
  const m = await register.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

async function histogramCount(name: string, app: string): Promise<number> {
  const m = await register.getSingleMetric(name)?.get();
  return (
    m?.values.find(
      (x) => x.labels.app === app && (x as { metricName?: string }).metricName === `${name}_count`,
    )?.value ?? 0
  );
}
