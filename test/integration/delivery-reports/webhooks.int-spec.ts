import type { INestApplication } from '@nestjs/common';
import type { OutcomeStatus } from '@app/contracts';
import { uniqueId, waitFor } from '@app/testing';
import request from 'supertest';
import {
  outcome,
  produceOutcomes,
  Receiver,
  startWebhooks,
  writeWebhookApps,
  type Received,
  type WebhooksService,
} from './webhooks.helpers';

/**
 * Outcome webhooks of the delivery-reports service against the real broker, with local
 * receivers: signed batches of at most batchMax outcomes, only the subscribed events, retries
 * after a 500 and after a 429 with Retry-After (not sooner), the same delivery id on every
 * attempt; and deliveries go on while PostgreSQL is out of reach.
 */
describe('outcome webhooks: signed batches and retries', () => {
  const apps = {
    all: uniqueId('wh-all'),
    flaky: uniqueId('wh-500'),
    limited: uniqueId('wh-429'),
  };
  let receivers: Record<'all' | 'sentOnly' | 'flaky' | 'limited', Receiver>;
  let app: INestApplication;
  let service: WebhooksService;
  // Each delivery: first attempt fails, the next succeeds.
  const firstFails = (status: number, headers?: Record<string, string>) => (nth: number) =>
    nth === 0 ? { status, headers } : { status: 200 };

  beforeAll(async () => {
    receivers = {
      all: await Receiver.start(),
      sentOnly: await Receiver.start(),
      flaky: await Receiver.start(firstFails(500)),
      limited: await Receiver.start(firstFails(429, { 'retry-after': '2' })),
    };
    const file = writeWebhookApps({
      [apps.all]: [
        { receiver: receivers.all, batchMax: 3 },
        { receiver: receivers.sentOnly, events: ['sent'] },
      ],
      [apps.flaky]: [{ receiver: receivers.flaky }],
      [apps.limited]: [{ receiver: receivers.limited }],
    });
    service = await startWebhooks(file, {
      WEBHOOK_HANDOFF_MS: '500',
      WEBHOOK_RETRY_BASE_MS: '200',
      WEBHOOK_RETRY_MAX_MS: '1000',
    });
    app = service.app;
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await service?.database.cutNow();
    await Promise.all(Object.values(receivers ?? {}).map((r) => r.stop()));
  });

  it('POSTs signed batches of at most batchMax outcomes, only of the subscribed events', async () => {
    // One user: one partition, one produce call, so the outcomes come in one or few batches.
    const statuses: OutcomeStatus[] = ['delivered', 'suppressed', 'delivered', 'invalid_token'];
    statuses.push('rejected', 'expired', 'failed', 'delivered');
    const sent = statuses.map((s) => outcome(apps.all, 'u1', s));
    await produceOutcomes(app, sent);
    const all = receivers.all;
    await waitFor(() => new Set(all.jobIds()).size === sent.length, {
      what: 'every outcome at the all-events webhook',
    });
    const delivered = sent.filter((o) => o.status === 'delivered').map((o) => o.jobId);
    await waitFor(() => new Set(receivers.sentOnly.jobIds()).size === delivered.length, {
      what: 'the delivered outcomes at the sent-only webhook',
    });

    expect(all.requests.every((r) => r.signatureOk)).toBe(true);
    expect(receivers.sentOnly.requests.every((r) => r.signatureOk)).toBe(true);
    expect(all.requests.every((r) => r.body.outcomes.length <= 3)).toBe(true);
    expect(all.requests.length).toBeGreaterThanOrEqual(3);
    expect(all.jobIds().sort()).toEqual(sent.map((o) => o.jobId).sort());
    for (const r of all.requests) {
      expect(r.body.appId).toBe(apps.all);
      expect(r.body.deliveryId).toBe(r.deliveryId);
      expect(r.attempt).toBe(1);
    }
    // Each outcome as push.outcome.v1 carries it, with its event (delivered is announced as sent).
    const received = all.requests.flatMap((r) => r.body.outcomes);
    const first = received.find((o) => o.jobId === sent[0].jobId)!;
    expect(first).toEqual({ event: 'sent', ...sent[0] });
    expect(received.find((o) => o.jobId === sent[1].jobId)!.event).toBe('suppressed');
    expect(receivers.sentOnly.jobIds().sort()).toEqual(delivered.sort());
    expect(receivers.sentOnly.requests.flatMap((r) => r.body.outcomes.map((o) => o.event))).toEqual(
      delivered.map(() => 'sent'),
    );
  });

  it('retries a delivery answered 500, with the same delivery id', async () => {
    const o = outcome(apps.flaky, 'u1', 'delivered');
    await produceOutcomes(app, [o]);
    const flaky = receivers.flaky;
    await waitFor(() => flaky.requests.length >= 2, { what: 'a retry after the 500' });
    const [first, second] = flaky.requests;
    expect(second.deliveryId).toBe(first.deliveryId);
    expect(second.body).toEqual(first.body);
    expect([first.attempt, second.attempt]).toEqual([1, 2]);
    expect(first.signatureOk && second.signatureOk).toBe(true);
    // Acknowledged: no third attempt.
    await new Promise((r) => setTimeout(r, 2500));
    expect(flaky.requests).toHaveLength(2);
  });

  it('waits at least Retry-After after a 429 before trying again', async () => {
    const o = outcome(apps.limited, 'u1', 'expired');
    await produceOutcomes(app, [o]);
    const limited = receivers.limited;
    await waitFor(() => limited.requests.length >= 2, {
      what: 'a retry after the 429',
      timeoutMs: 20_000,
    });
    const [first, second]: Received[] = limited.requests;
    expect(second.deliveryId).toBe(first.deliveryId);
    expect(second.attempt).toBe(2);
    // Retry-After: 2 (seconds); the backoff alone would be at most 1 s here.
    expect(second.at - first.at).toBeGreaterThanOrEqual(2000);
    expect(second.body.outcomes.map((x) => x.jobId)).toEqual([o.jobId]);
  });

  it('delivers while PostgreSQL is out of reach (webhooks read Kafka only)', async () => {
    await service.database.cutNow();
    try {
      await waitFor(
        async () => (await request(app.getHttpServer()).get('/health/ready')).status === 503,
        { what: 'readiness to report the database down' },
      );
      const o = outcome(apps.all, 'u2', 'delivered');
      const seen = receivers.sentOnly.requests.length;
      await produceOutcomes(app, [o]);
      await waitFor(() => receivers.sentOnly.jobIds().includes(o.jobId), {
        what: 'the outcome at the webhook during the outage',
      });
      expect(receivers.sentOnly.requests.length).toBeGreaterThan(seen);
    } finally {
      await service.database.restore();
    }
  });
});
