import { Logger } from '@nestjs/common';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsRegistry } from '@app/config';
import { TOPICS, type WebhookDelivery } from '@app/contracts';
import { RetryPolicy } from '@app/dispatch';
import type { OutboundRecord } from '@app/kafka';
import type { DeliveryJob } from './webhook-batcher';
import { WebhookDeliverer } from './webhook-deliverer';
import { WebhookTargets } from './webhook-targets';

const dir = mkdtempSync(join(tmpdir(), 'deliverer-'));
writeFileSync(join(dir, 's'), 'a-secret-of-sixteen-bytes-or-more');
const targets = new WebhookTargets(
  new AppsRegistry({
    apps: [
      {
        id: 'a',
        apiKeys: [],
        policy: { suppressWhenOnlineElsewhere: false, offlineAfterDays: 7 },
        webhooks: [
          {
            url: 'https://a.example/h',
            secretFile: join(dir, 's'),
            events: ['sent'],
            batchMax: 10,
            timeoutMs: 5000,
          },
        ],
      },
    ],
  }),
  // random() = 1: the full backoff ceiling (1 s after a first failure).
  { maxInFlight: 2, retryPolicy: new RetryPolicy({ baseDelayMs: 1000, random: () => 1 }) },
);
const target = targets.of('a')[0];

let n = 0;
const job = (over: Partial<WebhookDelivery> = {}): DeliveryJob => ({
  target,
  delivery: {
    deliveryId: `00000000-0000-0000-0000-${String(n++).padStart(12, '0')}`,
    appId: 'a',
    group: 'g',
    webhook: { index: 0, urlHash: target.urlHash },
    outcomes: [
      {
        jobId: 'j1',
        messageId: 'm1',
        appId: 'a',
        userId: 'u1',
        deviceId: 'd1',
        provider: 'apns',
        status: 'delivered',
        code: null,
        reason: null,
        attempts: 1,
        latencyMs: 3,
        at: new Date().toISOString(),
      },
    ],
    queuedAt: new Date().toISOString(),
    attempts: 0,
    notBefore: new Date().toISOString(),
    lastError: null,
    ...over,
  },
});
const valueOf = (r: OutboundRecord) => r.value as WebhookDelivery;

describe('WebhookDeliverer', () => {
  let fetchMock: jest.SpyInstance;
  const deliverer = (over: { maxParkMs?: number; maxAgeMs?: number } = {}) =>
    new WebhookDeliverer({
      handoffMs: 50,
      maxAgeMs: over.maxAgeMs ?? 3_600_000,
      maxParkMs: over.maxParkMs ?? 600_000,
      random: () => 0,
    });

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    fetchMock = jest.spyOn(globalThis, 'fetch');
    // A fresh gate state for each case.
    target.gate.release({ ok: true, quick: true });
    (target.gate as unknown as { inFlight: number }).inFlight = 0;
  });
  afterEach(() => fetchMock.mockRestore());

  it('signs and POSTs; an acknowledged delivery leaves nothing to retry', async () => {
    fetchMock.mockResolvedValue(new Response(null, { status: 204 }));
    const j = job();
    expect(await deliverer().deliver([j])).toEqual([]);
    const [url, init] = fetchMock.mock.calls[0] as [string, RequestInit];
    const headers = init.headers as Record<string, string>;
    expect(url).toBe('https://a.example/h');
    expect(headers['x-push-delivery-id']).toBe(j.delivery.deliveryId);
    expect(headers['x-push-attempt']).toBe('1');
    expect(headers['x-push-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(init.redirect).toBe('manual');
  });

  it('writes a failed delivery back with one more attempt, due when the webhook may be tried again', async () => {
    fetchMock.mockResolvedValue(new Response(null, { status: 500 }));
    const before = Date.now();
    const [rec] = await deliverer().deliver([job({ attempts: 2, lastError: 'HTTP 502' })]);
    expect(rec.topic).toBe(TOPICS.webhookRetry);
    expect(valueOf(rec)).toMatchObject({ attempts: 3, lastError: 'HTTP 500' });
    const due = Date.parse(valueOf(rec).notBefore);
    expect(due).toBeGreaterThanOrEqual(before + 1000);
    expect(due).toBe(target.gate.pausedUntilMs);
    // Paused: the next delivery is not even tried.
    fetchMock.mockClear();
    const [next] = await deliverer().deliver([job()]);
    expect(fetchMock).not.toHaveBeenCalled();
    expect(valueOf(next)).toMatchObject({ attempts: 0, lastError: null });
  });

  it('never parks a delivery longer than maxParkMs, nor past its max age', async () => {
    fetchMock.mockResolvedValue(
      new Response(null, { status: 429, headers: { 'retry-after': '3600' } }),
    );
    const now = Date.now();
    const [rec] = await deliverer({ maxParkMs: 2000 }).deliver([job()]);
    expect(target.gate.pausedUntilMs).toBeGreaterThanOrEqual(now + 3_600_000);
    expect(Date.parse(valueOf(rec).notBefore)).toBeLessThanOrEqual(Date.now() + 2000);
    const queuedAt = new Date(now - 9000).toISOString();
    const [old] = await deliverer({ maxAgeMs: 10_000 }).deliver([job({ queuedAt })]);
    expect(valueOf(old).notBefore).toBe(new Date(now + 1000).toISOString());
  });

  it('hands a delivery over when the webhook does not answer in time, and remembers a late acknowledgement', async () => {
    let answer!: (r: Response) => void;
    fetchMock.mockReturnValue(new Promise<Response>((r) => (answer = r)));
    const d = deliverer({ maxParkMs: 600_000 });
    const j = job();
    const started = Date.now();
    const [rec] = await d.deliver([j]);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(valueOf(rec)).toMatchObject({ attempts: 1 });
    expect(valueOf(rec).lastError).toMatch(/^IN_FLIGHT/);
    // Back once the attempt has ended either way (its timeout), not while it may still answer.
    expect(Date.parse(valueOf(rec).notBefore)).toBeGreaterThanOrEqual(started + 5000);
    expect(target.gate.isSlow).toBe(true);
    // The same delivery again while its POST is in flight: no second POST.
    const [again] = await d.deliver([j]);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(valueOf(again).attempts).toBe(0);
    answer(new Response(null, { status: 200 }));
    await new Promise((r) => setImmediate(r));
    expect(d.lateAcks.has(j.delivery.deliveryId)).toBe(true);
  });
});
