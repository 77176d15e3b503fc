import type { INestApplication } from '@nestjs/common';
import { dispatchMetrics } from '@app/dispatch';
import { redactToken } from '@app/kafka';
import {
  apnsToken,
  apnsRequest,
  generateApnsClientCertificate,
  startSilentPeer,
  waitFor,
  type DisposableBroker,
  type FakeApns,
} from '@app/testing';
import type { Kafka } from 'kafkajs';
import { join } from 'node:path';
import { apnsIdFor } from '@apps/apns-dispatcher/apns/apns-id.util';
import {
  ApnsWorld,
  Collector,
  dispatcherEnv,
  produce,
  startBroker,
  startDispatcher,
  TOPIC,
} from './apns-harness';

/**
 * The dispatcher end to end: real Kafka (a broker of this suite's own), the real @parse/node-apn,
 * a local TLS HTTP/2 fake APNs answering by per-token rules.
 */
describe('APNs dispatcher against the fake APNs', () => {
  let broker: DisposableBroker;
  let kafka: Kafka;
  let world: ApnsWorld;
  let fake: FakeApns;
  let silentPeer: { port: number; stop: () => Promise<void> };
  let app: INestApplication;
  let out: Collector;
  const both = 'apnsboth';
  const prodOnly = 'apnsprod';
  const stranger = 'apnsstranger';
  const silent = 'apnssilent';
  const certified = 'apnscert';

  beforeAll(async () => {
    ({ broker, kafka } = await startBroker());
    world = new ApnsWorld();
    fake = await world.fake();
    silentPeer = await startSilentPeer();
    const appsFile = world.writeAppsFile(fake.port, [
      { id: both },
      { id: prodOnly, environments: ['production'] },
      { id: stranger, key: world.strangerKey },
      {
        id: silent,
        endpoint: { host: '127.0.0.1', port: silentPeer.port, caFile: world.tls.caFile },
      },
      { id: certified, cert: generateApnsClientCertificate(world.tls, join(world.dir, 'client')) },
    ]);
    out = await new Collector(kafka).start();
    app = await startDispatcher(dispatcherEnv(broker.brokers, appsFile));
    // A fresh broker's group coordinator can take a while: wait until the dispatcher consumes.
    const warmUp = apnsRequest(both, apnsToken());
    await produce(kafka, [warmUp]);
    await out.outcome(warmUp.jobId, 90000);
  }, 180000);

  afterAll(async () => {
    await app?.close();
    await out?.stop();
    await fake?.stop();
    await silentPeer?.stop();
    world?.dispose();
    await broker?.destroy();
  });

  it('delivers: the fake gets the exact payload, headers and an apns-id derived from the jobId', async () => {
    const token = apnsToken();
    const req = apnsRequest(both, token, {
      collapseId: 'c-1',
      priority: 5,
      pushType: 'background',
      payload: { aps: { 'content-available': 1 } },
    });
    await produce(kafka, [req]);
    const o = await out.outcome(req.jobId);
    expect(o).toMatchObject({
      status: 'delivered',
      provider: 'apns',
      attempts: 1,
      userId: req.userId,
      messageId: req.messageId,
    });
    expect(o.latencyMs).toBeGreaterThanOrEqual(0);
    const [got] = fake.receivedFor(token);
    expect(got).toMatchObject({
      environment: 'production',
      apnsId: apnsIdFor(req.jobId),
      topic: TOPIC,
      pushType: 'background',
      priority: '5',
      collapseId: 'c-1',
      expiration: String(Math.floor(Date.parse(req.expiresAt) / 1000)),
      payload: req.payload,
    });
    expect(fake.receivedFor(token)).toHaveLength(1);
  });

  it('certificate auth: the client certificate replaces the provider token', async () => {
    const token = apnsToken();
    const req = apnsRequest(certified, token);
    await produce(kafka, [req]);
    expect(await out.outcome(req.jobId)).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(fake.receivedFor(token)).toHaveLength(1);
  });

  it('410 Unregistered / ExpiredToken: invalid_token and an invalidation carrying the APNs timestamp', async () => {
    const gone = apnsToken();
    const expired = apnsToken();
    const ts = Date.parse('2026-11-20T10:00:00.000Z');
    fake.rule(gone, { kind: 'error', status: 410, reason: 'Unregistered', timestamp: ts });
    fake.rule(expired, {
      kind: 'error',
      status: 410,
      reason: 'ExpiredToken',
      timestamp: ts + 1000,
    });
    const [a, b] = [apnsRequest(both, gone), apnsRequest(both, expired)];
    await produce(kafka, [a, b]);
    expect(await out.outcome(a.jobId)).toMatchObject({
      status: 'invalid_token',
      code: 'Unregistered',
    });
    expect(await out.outcome(b.jobId)).toMatchObject({
      status: 'invalid_token',
      code: 'ExpiredToken',
    });
    const inv = await waitFor(() => out.invalidationsOf(gone)[0], { what: 'invalidation' });
    expect(inv).toMatchObject({
      appId: both,
      userId: a.userId,
      deviceId: a.deviceId,
      provider: 'apns',
      reason: 'unregistered',
      providerTimestamp: new Date(ts).toISOString(),
    });
    const inv2 = await waitFor(() => out.invalidationsOf(expired)[0], { what: 'invalidation' });
    expect(inv2).toMatchObject({
      reason: 'expired_token',
      providerTimestamp: new Date(ts + 1000).toISOString(),
    });
  });

  it('400 DeviceTokenNotForTopic and 413 PayloadTooLarge: rejected with a dead letter, the token kept', async () => {
    const wrongTopic = apnsToken();
    fake.rule(wrongTopic, { kind: 'error', status: 400, reason: 'DeviceTokenNotForTopic' });
    const big = apnsToken();
    const a = apnsRequest(both, wrongTopic);
    const b = apnsRequest(both, big, { payload: { aps: { alert: 'x'.repeat(5000) } } });
    await produce(kafka, [a, b]);
    expect(await out.outcome(a.jobId)).toMatchObject({
      status: 'rejected',
      code: 'DeviceTokenNotForTopic',
    });
    expect(await out.outcome(b.jobId)).toMatchObject({
      status: 'rejected',
      code: 'PayloadTooLarge',
    });
    const letters = await waitFor(
      () => {
        const l = out.deadLetters.filter(
          (d) => d.value?.includes(a.jobId) || d.value?.includes(b.jobId),
        );
        return l.length === 2 && l;
      },
      { what: 'two dead letters' },
    );
    expect(letters.map((l) => l.error.code).sort()).toEqual([
      'DeviceTokenNotForTopic',
      'PayloadTooLarge',
    ]);
    // The request as sent, its device token hashed (DEAD_LETTER_KEEP_TOKENS keeps it).
    const tooLarge = letters.find((l) => l.error.code === 'PayloadTooLarge')!;
    expect(tooLarge.redacted).toBe(true);
    expect(JSON.parse(tooLarge.value!)).toEqual({ ...b, token: redactToken(b.token) });
    expect(out.invalidationsOf(wrongTopic)).toHaveLength(0);
    expect(out.invalidationsOf(big)).toHaveLength(0);
  });

  it('429 with Retry-After: waits at least that long (no hammering), then delivers', async () => {
    const token = apnsToken();
    fake.rule(token, {
      kind: 'sequence',
      steps: [
        { kind: 'error', status: 429, reason: 'TooManyRequests', retryAfterSeconds: 2 },
        { kind: 'ok' },
      ],
    });
    const req = apnsRequest(both, token);
    await produce(kafka, [req]);
    const o = await out.outcome(req.jobId, 30000);
    expect(o).toMatchObject({ status: 'delivered', attempts: 2 });
    const got = fake.receivedFor(token);
    expect(got.map((g) => g.status)).toEqual([429, 200]);
    expect(got[1].at - got[0].at).toBeGreaterThanOrEqual(2000);
    const retry = out.retries.find((r) => r.jobId === req.jobId)!;
    expect(retry.attempt).toBe(1);
    expect(Date.parse(retry.notBefore!) - got[0].at).toBeGreaterThanOrEqual(1900);
  });

  it('500, reset stream and 503: retried with backoff and delivered', async () => {
    const t500 = apnsToken();
    const reset = apnsToken();
    fake.rule(t500, {
      kind: 'sequence',
      steps: [{ kind: 'error', status: 500, reason: 'InternalServerError' }, { kind: 'ok' }],
    });
    fake.rule(reset, {
      kind: 'sequence',
      steps: [
        { kind: 'reset' },
        { kind: 'error', status: 503, reason: 'ServiceUnavailable' },
        { kind: 'ok' },
      ],
    });
    const [a, b] = [apnsRequest(both, t500), apnsRequest(both, reset)];
    await produce(kafka, [a, b]);
    expect(await out.outcome(a.jobId, 30000)).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(await out.outcome(b.jobId, 30000)).toMatchObject({ status: 'delivered', attempts: 3 });
  });

  it('keeps failing until expiresAt: an expired outcome, attempts spread by backoff', async () => {
    const token = apnsToken();
    fake.rule(token, { kind: 'error', status: 503, reason: 'ServiceUnavailable' });
    const req = apnsRequest(both, token, { expiresAt: new Date(Date.now() + 4000).toISOString() });
    await produce(kafka, [req]);
    const o = await out.outcome(req.jobId, 30000);
    expect(o.status).toBe('expired');
    // The last error when the next try would pass expiry; EXPIRED when a parked retry woke too late.
    expect(['ServiceUnavailable', 'EXPIRED']).toContain(o.code);
    const got = fake.receivedFor(token);
    expect(o.attempts).toBe(got.length);
    expect(got.length).toBeLessThan(12); // 4 s at >= 100 ms and growing backoff, not a hot loop
    for (const g of got) expect(g.at).toBeLessThan(Date.parse(req.expiresAt));
    expect(out.outcomesOf(req.jobId)).toHaveLength(1);
  });

  it('BadDeviceToken in production, works in sandbox: delivered + environment_mismatch naming sandbox', async () => {
    const token = apnsToken();
    fake.rule(token, {
      production: { kind: 'error', status: 400, reason: 'BadDeviceToken' },
      sandbox: { kind: 'ok' },
    });
    const req = apnsRequest(both, token);
    await produce(kafka, [req]);
    expect(await out.outcome(req.jobId)).toMatchObject({ status: 'delivered' });
    const inv = await waitFor(() => out.invalidationsOf(token)[0], { what: 'invalidation' });
    expect(inv).toMatchObject({
      reason: 'environment_mismatch',
      environment: 'sandbox',
      deviceId: req.deviceId,
    });
    expect(fake.receivedFor(token).map((g) => `${g.environment}:${g.status}`)).toEqual([
      'production:400',
      'sandbox:200',
    ]);
  });

  it('BadDeviceToken in both environments, or with only one environment: invalid_token', async () => {
    const bothBad = apnsToken();
    const single = apnsToken();
    fake.rule(bothBad, { kind: 'error', status: 400, reason: 'BadDeviceToken' });
    fake.rule(single, { kind: 'error', status: 400, reason: 'BadDeviceToken' });
    const [a, b] = [
      apnsRequest(both, bothBad, { environment: 'sandbox' }),
      apnsRequest(prodOnly, single),
    ];
    await produce(kafka, [a, b]);
    expect(await out.outcome(a.jobId)).toMatchObject({
      status: 'invalid_token',
      code: 'BadDeviceToken',
    });
    expect(await out.outcome(b.jobId)).toMatchObject({
      status: 'invalid_token',
      code: 'BadDeviceToken',
    });
    expect(fake.receivedFor(bothBad).map((g) => g.environment)).toEqual(['sandbox', 'production']);
    expect(fake.receivedFor(single).map((g) => g.environment)).toEqual(['production']);
    await waitFor(() => out.invalidationsOf(single)[0], { what: 'invalidation' });
    expect(out.invalidationsOf(bothBad)[0]).toMatchObject({ reason: 'bad_device_token' });
  });

  it('ExpiredProviderToken: the provider token is refreshed and the push sent again at once', async () => {
    const token = apnsToken();
    const before = fake.counts.byStatus.get(403) ?? 0;
    await new Promise((r) => setTimeout(r, 1100)); // tokens signed so far are now at least a second old
    fake.expireTokensIssuedBefore(Math.floor(Date.now() / 1000));
    const req = apnsRequest(both, token);
    await produce(kafka, [req]);
    expect(await out.outcome(req.jobId)).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(fake.counts.byStatus.get(403) ?? 0).toBeGreaterThan(before);
  });

  it('403 InvalidProviderToken: retried with the alarm metric, never an invalidation', async () => {
    const token = apnsToken();
    const alarm = async () =>
      (await dispatchMetrics.authFailures.get()).values.find((v) => v.labels.app === stranger)
        ?.value ?? 0;
    const req = apnsRequest(stranger, token, {
      expiresAt: new Date(Date.now() + 3000).toISOString(),
    });
    await produce(kafka, [req]);
    const o = await out.outcome(req.jobId, 30000);
    expect(o).toMatchObject({ status: 'expired', code: 'InvalidProviderToken' });
    expect(await alarm()).toBeGreaterThan(0);
    expect(out.invalidationsOf(token)).toHaveLength(0);
  });

  it('GOAWAY mid-batch: every job of the batch still gets its outcome', async () => {
    const goaway = apnsToken();
    fake.rule(goaway, {
      kind: 'sequence',
      steps: [{ kind: 'slow', delayMs: 100, then: { kind: 'goaway' } }, { kind: 'ok' }],
    });
    const others = Array.from({ length: 30 }, () => apnsRequest(both, apnsToken()));
    const trigger = apnsRequest(both, goaway);
    await produce(kafka, [trigger, ...others]);
    for (const r of [trigger, ...others]) {
      expect((await out.outcome(r.jobId, 30000)).status).toBe('delivered');
    }
  });

  it('a stream that never answers and a peer that never speaks do not hang the dispatcher', async () => {
    const mute = apnsToken();
    fake.rule(mute, { kind: 'sequence', steps: [{ kind: 'silent' }, { kind: 'ok' }] });
    const muted = apnsRequest(both, mute);
    const lost = apnsRequest(silent, apnsToken(), {
      expiresAt: new Date(Date.now() + 5000).toISOString(),
    });
    await produce(kafka, [muted, lost]);
    const fine = apnsRequest(both, apnsToken());
    await produce(kafka, [fine]);
    expect(await out.outcome(fine.jobId)).toMatchObject({ status: 'delivered' });
    expect(await out.outcome(muted.jobId, 30000)).toMatchObject({
      status: 'delivered',
      attempts: 2,
    });
    const o = await out.outcome(lost.jobId, 30000);
    expect(o.status).toBe('expired');
    const reconnects = (await dispatchMetrics.reconnects.get()).values.filter(
      (v) => v.labels.app === silent,
    );
    expect(reconnects.reduce((n, v) => n + v.value, 0)).toBeGreaterThan(0);
  });

  it('a redelivered job is not sent twice (recent-jobs memory), its outcome produced again', async () => {
    const token = apnsToken();
    const req = apnsRequest(both, token);
    await produce(kafka, [req]);
    await out.outcome(req.jobId);
    await produce(kafka, [req]);
    await waitFor(() => out.outcomesOf(req.jobId).length >= 2 || undefined, {
      what: 'second outcome',
    });
    expect(fake.receivedFor(token)).toHaveLength(1);
    expect(out.outcomesOf(req.jobId).every((o) => o.status === 'delivered')).toBe(true);
  });
});
