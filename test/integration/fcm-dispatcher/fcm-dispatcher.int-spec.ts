import type { INestApplication } from '@nestjs/common';
import {
  TOPICS,
  type DeadLetter,
  type FcmRequest,
  type PushOutcome,
  type TokenInvalidated,
} from '@app/contracts';
import { EventProducer, outbound } from '@app/kafka';
import {
  startDisposableBroker,
  startGroupAtEnd,
  startService,
  TopicRecorder,
  uniqueId,
  waitFor,
  type DisposableBroker,
} from '@app/testing';
import { Kafka, logLevel } from 'kafkajs';
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import request from 'supertest';
import { SERVICES } from '../services';
import { startFcmFixture, type FcmFixture } from './fcm-fixture';

const ROOT = resolve(__dirname, '../../..');

/**
 * The dispatcher end to end: requests on Kafka, the real firebase-admin, the fake FCM, and the
 * records it answers with. A broker of its own (port 19592, 12-partition contract topics), so that nothing else's requests are
 * consumed and nothing of ours reaches the shared topics.
 */
describe('FCM dispatcher over Kafka', () => {
  let broker: DisposableBroker;
  let kafka: Kafka;
  let producer: EventProducer;
  let sink: TopicRecorder;
  let fx: FcmFixture;
  const groupId = uniqueId('fcm-dispatcher');

  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    ...process.env,
    KAFKA_BROKERS: broker.brokers.join(','),
    PUSH_APPS_FILE: fx.appsFile,
    LOG_LEVEL: 'warn',
    FCM_GROUP_ID: groupId,
    FCM_RETRY_BASE_MS: '200',
    FCM_QUOTA_MIN_DELAY_MS: '1000',
    FCM_SEND_TIMEOUT_MS: '5000',
    ...extra,
  });

  beforeAll(async () => {
    broker = await startDisposableBroker(19592);
    kafka = new Kafka({ clientId: 'fcm-it', brokers: broker.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    // This broker outlives the run (benchmarks use it too): the group starts at the end of its
    // topics rather than working through what earlier runs left there.
    await startGroupAtEnd(kafka, admin, groupId, [TOPICS.fcmRequest.name, TOPICS.fcmRetry.name]);
    await admin.disconnect();
    fx = await startFcmFixture();
    producer = new EventProducer(kafka);
    sink = await TopicRecorder.start(kafka, [
      TOPICS.pushOutcome.name,
      TOPICS.tokenInvalidated.name,
      TOPICS.fcmRetry.name,
      TOPICS.deadLetter.name,
    ]);
  }, 180_000);

  afterAll(async () => {
    await sink?.stop();
    await producer?.disconnect();
    await fx?.fake.stop();
    await broker?.destroy();
  });

  let seq = 0;
  const job = (token: string, over: Partial<FcmRequest> = {}): FcmRequest => ({
    jobId: uniqueId('job'),
    appId: fx.appId,
    userId: `user-${seq++ % 16}`,
    deviceId: 'pixel-1',
    messageId: uniqueId('msg'),
    token,
    createdAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 600_000).toISOString(),
    attempt: 0,
    message: {
      notification: { title: 'Alice', body: 'hi' },
      data: { ext: '{}' },
      android: { ttl: '600s' },
    },
    ...over,
  });
  const publish = (jobs: FcmRequest[]) =>
    producer.send(jobs.map((j) => outbound(TOPICS.fcmRequest, j)));
  const outcomesOf = (ids: Set<string>) =>
    sink.values<PushOutcome>(TOPICS.pushOutcome.name, (v) => ids.has(v.jobId));
  const outcome = (j: FcmRequest) =>
    sink.values<PushOutcome>(TOPICS.pushOutcome.name, (v) => v.jobId === j.jobId).at(-1);

  describe('in process', () => {
    let app: INestApplication;

    beforeAll(async () => {
      app = await startService({ ...SERVICES.fcmDispatcher, env: env() });
    });

    afterAll(async () => {
      await app?.close();
    });

    it('answers every FCM result with the right records', async () => {
      const id = uniqueId('e');
      const quotaToken = `quota-${id}-token`;
      fx.fake.rule(
        quotaToken,
        { kind: 'error', code: 'QUOTA_EXCEEDED', retryAfterSeconds: 3 },
        { kind: 'ok' },
      );
      const flaky = ['UNAVAILABLE', 'INTERNAL', 'THIRD_PARTY_AUTH_ERROR'] as const;
      for (const code of flaky) {
        fx.fake.rule(`${code}-${id}`, { kind: 'error', code }, { kind: 'ok' });
      }
      const j = {
        ok: job(`ok-${id}-token`),
        unregistered: job(`fake-unregistered-${id}`),
        // A token FCM refuses as malformed (the contract already refuses white space in tokens).
        badToken: job(`fake-invalid-${id}`),
        payload: job(`ok-${id}-payload`, { message: { data: { a: '1' }, foo: 'bar' } }),
        mismatch: job(`fake-mismatch-${id}`),
        noApp: job(`ok-${id}-noapp`, { appId: fx.noFcmAppId }),
        expiredOnArrival: job(`ok-${id}-late`, {
          expiresAt: new Date(Date.now() - 1000).toISOString(),
        }),
        quota: job(quotaToken),
        neverUp: job(`fake-unavailable-${id}`, {
          expiresAt: new Date(Date.now() + 8000).toISOString(),
        }),
        ...Object.fromEntries(flaky.map((c) => [c, job(`${c}-${id}`)])),
      } as Record<string, FcmRequest>;
      const all = Object.values(j);
      await publish(all);
      const ids = new Set(all.map((x) => x.jobId));
      await waitFor(() => new Set(outcomesOf(ids).map((o) => o.jobId)).size === ids.size, {
        what: 'an outcome for every job',
        timeoutMs: 60_000,
      });

      expect(outcome(j.ok)).toMatchObject({ status: 'delivered', provider: 'fcm', attempts: 1 });
      expect(outcome(j.unregistered)).toMatchObject({
        status: 'invalid_token',
        code: 'UNREGISTERED',
      });
      expect(outcome(j.badToken)).toMatchObject({
        status: 'invalid_token',
        code: 'INVALID_ARGUMENT',
      });
      expect(outcome(j.payload)).toMatchObject({ status: 'rejected', code: 'INVALID_ARGUMENT' });
      expect(outcome(j.payload)?.reason).toContain('Unknown name "foo"');
      expect(outcome(j.mismatch)).toMatchObject({ status: 'rejected', code: 'SENDER_ID_MISMATCH' });
      expect(outcome(j.noApp)).toMatchObject({ status: 'failed', code: 'APP_NOT_CONFIGURED' });
      expect(outcome(j.expiredOnArrival)).toMatchObject({ status: 'expired', code: 'EXPIRED' });
      expect(fx.fake.sendsTo(j.expiredOnArrival.token)).toHaveLength(0);
      for (const c of flaky) {
        expect(outcome(j[c])).toMatchObject({ status: 'delivered', attempts: 2 });
      }
      expect(outcome(j.quota)).toMatchObject({ status: 'delivered', attempts: 2 });
      // Retried while the job lived, then expired: either the next try would fall after
      // expiresAt (code: the last error), or a parked retry came due too late (EXPIRED). The
      // quota answer's Retry-After holds for the whole project, so it spaces these tries too.
      expect(outcome(j.neverUp)).toMatchObject({ status: 'expired' });
      expect(['SERVER_UNAVAILABLE', 'EXPIRED']).toContain(outcome(j.neverUp)?.code);
      expect(fx.fake.sendsTo(j.neverUp.token).length).toBeGreaterThanOrEqual(2);

      const inv = (t: FcmRequest) =>
        sink.values<TokenInvalidated>(
          TOPICS.tokenInvalidated.name,
          (v) => v.token === t.token && v.appId === t.appId,
        );
      expect(inv(j.unregistered)).toEqual([
        expect.objectContaining({
          reason: 'unregistered',
          provider: 'fcm',
          userId: j.unregistered.userId,
          deviceId: 'pixel-1',
        }),
      ]);
      expect(inv(j.badToken)).toEqual([expect.objectContaining({ reason: 'invalid_argument' })]);
      // A sender mismatch is a configuration problem: the token stays.
      expect(inv(j.mismatch)).toHaveLength(0);
      expect(inv(j.payload)).toHaveLength(0);

      const letters = sink.values<DeadLetter>(TOPICS.deadLetter.name, (v) =>
        String(v.value).includes(j.payload.jobId),
      );
      expect(letters).toEqual([
        expect.objectContaining({
          source: expect.objectContaining({ topic: TOPICS.fcmRequest.name }),
          error: expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
        }),
      ]);

      // Retry-After (3 s) beats both the quota floor (1 s here) and the backoff (200 ms base).
      const retries = sink.values<FcmRequest>(
        TOPICS.fcmRetry.name,
        (v) => v.jobId === j.quota.jobId,
      );
      expect(retries).toHaveLength(1);
      expect(retries[0]).toMatchObject({ attempt: 1 });
      const sends = fx.fake.sendsTo(quotaToken);
      expect(sends.map((s) => s.httpStatus)).toEqual([429, 200]);
      expect(Date.parse(retries[0].notBefore as string) - sends[0].at).toBeGreaterThanOrEqual(2900);
      expect(sends[1].at - sends[0].at).toBeGreaterThanOrEqual(2900);
      for (const c of flaky) {
        expect(fx.fake.sendsTo(`${c}-${id}`).map((s) => s.httpStatus)[1]).toBe(200);
      }
    });

    it('serves the shared dispatch metrics', async () => {
      const res = await request(app.getHttpServer()).get('/metrics');
      expect(res.text).toMatch(/push_dispatch_sends_total\{[^}]*provider="fcm"/);
      expect(res.text).toMatch(
        /push_dispatch_auth_failures_total\{[^}]*reason="mismatched_credential"/,
      );
      expect(res.text).toContain('push_fcm_send_each_messages');
    });
  });

  describe('a process killed mid-batch', () => {
    const children: ChildProcess[] = [];
    afterAll(() => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')));

    const startChild = (): ChildProcess => {
      const child = spawn(
        process.execPath,
        ['-r', './libs/testing/src/swc-register.js', 'apps/fcm-dispatcher/src/main.ts'],
        {
          cwd: ROOT,
          env: env({
            HTTP_PORT: String(20000 + Math.floor(Math.random() * 20000)),
            FCM_BATCH_SIZE: '50',
            FCM_BATCHES_IN_FLIGHT: '2',
            FCM_MAX_SOCKETS: '10',
            SHUTDOWN_TIMEOUT_MS: '10000',
            // The killed member's partitions move once its session expires.
            FCM_SESSION_TIMEOUT_MS: '8000',
          }),
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      );
      children.push(child);
      return child;
    };

    it('loses nothing and resends nothing that was acknowledged', async () => {
      const id = uniqueId('kill');
      const jobs = Array.from({ length: 400 }, (_, i) =>
        job(`ok-${id}-${String(i).padStart(4, '0')}`),
      );
      for (const j of jobs) fx.fake.rule(j.token, { kind: 'slow', delayMs: 200 });
      const ids = new Set(jobs.map((j) => j.jobId));
      const tokens = new Set(jobs.map((j) => j.token));
      const received = () =>
        fx.fake.received.filter((r) => r.token !== undefined && tokens.has(r.token));

      await publish(jobs);
      const first = startChild();
      // Kill once some jobs are acknowledged while others are still on the wire.
      // (How far it got by then depends on the machine's load; what matters is that some jobs are
      // acknowledged and some are not yet sent.)
      await waitFor(() => outcomesOf(ids).length >= 20 && received().length < jobs.length, {
        what: 'the first acknowledged jobs',
        timeoutMs: 120_000,
        intervalMs: 50,
      });
      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));
      // Sends the fake was still holding (200 ms) are recorded when it answers them.
      await new Promise((r) => setTimeout(r, 500));
      const sentBeforeKill = received().length;
      const acknowledged = new Set(outcomesOf(ids).map((o) => o.jobId));

      const second = startChild();
      await waitFor(() => new Set(outcomesOf(ids).map((o) => o.jobId)).size === ids.size, {
        what: 'an outcome for every job after the restart',
        timeoutMs: 90_000,
      });
      second.kill('SIGTERM');
      await new Promise((r) => second.once('exit', r));

      // Killed mid-batch: some jobs were acknowledged, others were on the wire.
      expect(acknowledged.size).toBeGreaterThan(0);
      expect(sentBeforeKill).toBeGreaterThan(acknowledged.size);
      expect(outcomesOf(ids).every((o) => o.status === 'delivered')).toBe(true);
      const sendsPerToken = new Map<string, number>();
      for (const r of received()) {
        sendsPerToken.set(r.token!, (sendsPerToken.get(r.token!) ?? 0) + 1);
      }
      for (const j of jobs) {
        expect(sendsPerToken.get(j.token) ?? 0).toBeGreaterThanOrEqual(1);
        // An acknowledged job (outcome committed with its offset) is never sent again.
        if (acknowledged.has(j.jobId)) expect(sendsPerToken.get(j.token)).toBe(1);
      }
      const resent = [...sendsPerToken.values()].filter((n) => n > 1).length;
      // At-least-once: only what was unacknowledged at the kill may go twice.
      expect(resent).toBeLessThanOrEqual(sentBeforeKill - acknowledged.size);
    });
  });
});
