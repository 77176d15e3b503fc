import type { FcmRequest } from '@app/contracts';
import { dispatchMetrics } from '@app/dispatch';
import { uniqueId } from '@app/testing';
import { register } from 'prom-client';
import { FcmApps } from '../../../apps/fcm-dispatcher/src/firebase/fcm-apps';
import { RetryAfterTracker } from '../../../apps/fcm-dispatcher/src/firebase/retry-after.tracker';
import { FcmSender } from '../../../apps/fcm-dispatcher/src/sending/fcm.sender';
import { startFcmFixture, type FcmFixture } from './fcm-fixture';

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
      sendTimeoutMs: 2000,
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

  it('a call slower than the send timeout retries every message of it, without hanging', async () => {
    const id = uniqueId('slow');
    const started = Date.now();
    const res = await sender.send([request(`ok-${id}-000001`), request(`fake-slow-4000-${id}`)]);
    expect(Date.now() - started).toBeLessThan(3500);
    expect(res.map((r) => r.kind)).toEqual(['retry', 'retry']);
    expect(res[1]).toMatchObject({
      message: expect.stringContaining('did not answer within 2000 ms'),
    });
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
