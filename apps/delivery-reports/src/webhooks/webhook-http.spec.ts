import type { PushOutcome, WebhookDelivery } from '@app/contracts';
import { classifyAnswer, webhookBody } from './webhook-http';

describe('webhook answers and body', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');

  it('acknowledges on any 2xx and retries everything else', () => {
    expect(classifyAnswer(200, null, now)).toEqual({ ok: true, result: '2xx', status: 200 });
    expect(classifyAnswer(204, null, now).ok).toBe(true);
    expect(classifyAnswer(500, null, now)).toEqual({
      ok: false,
      result: '5xx',
      error: 'HTTP 500',
      retryAfterMs: undefined,
    });
    expect(classifyAnswer(404, null, now)).toMatchObject({ ok: false, result: '4xx' });
    expect(classifyAnswer(302, null, now)).toMatchObject({ ok: false, result: '3xx' });
  });

  it('honours Retry-After in seconds or as an HTTP date on 429 and 503 only', () => {
    expect(classifyAnswer(429, '3', now)).toMatchObject({ result: '429', retryAfterMs: 3000 });
    expect(classifyAnswer(503, ' 120 ', now)).toMatchObject({
      result: '5xx',
      retryAfterMs: 120_000,
    });
    expect(classifyAnswer(429, 'Sun, 01 Mar 2026 12:00:07 GMT', now)).toMatchObject({
      retryAfterMs: 7000,
    });
    // A date in the past: no wait beyond the backoff; nonsense: ignored.
    expect(classifyAnswer(503, 'Sun, 01 Mar 2026 11:00:00 GMT', now)).toMatchObject({
      retryAfterMs: 0,
    });
    expect(classifyAnswer(429, 'soon', now)).toMatchObject({ retryAfterMs: undefined });
    // Not a delay: never a wait beyond the backoff.
    const dash = classifyAnswer(429, '-5', now);
    expect(dash.ok ? 0 : (dash.retryAfterMs ?? 0)).toBe(0);
    expect(classifyAnswer(500, '30', now)).toMatchObject({ retryAfterMs: undefined });
  });

  it('posts { deliveryId, appId, outcomes } with each outcome as push.outcome.v1 carries it plus its event', () => {
    const outcome = (status: PushOutcome['status']): PushOutcome => ({
      jobId: `job-${status}`,
      messageId: 'm1',
      appId: 'a',
      userId: 'u1',
      deviceId: 'd1',
      provider: 'fcm',
      status,
      code: null,
      reason: null,
      attempts: 1,
      latencyMs: 12,
      at: '2026-03-01T12:00:00.000Z',
    });
    const delivery: WebhookDelivery = {
      deliveryId: '01234567-89ab-cdef-0123-456789abcdef',
      appId: 'a',
      group: 'delivery-reports-webhooks',
      webhook: { index: 0, urlHash: '0123456789abcdef' },
      outcomes: [outcome('delivered'), outcome('suppressed')],
      queuedAt: '2026-03-01T12:00:00.000Z',
      attempts: 2,
      notBefore: '2026-03-01T12:00:00.000Z',
      lastError: 'HTTP 500',
    };
    const body = JSON.parse(webhookBody(delivery));
    expect(Object.keys(body)).toEqual(['deliveryId', 'appId', 'outcomes']);
    expect(body.outcomes).toEqual([
      { event: 'sent', ...outcome('delivered') },
      { event: 'suppressed', ...outcome('suppressed') },
    ]);
    // Outcomes carry no device token: nothing to hide beyond what push.outcome.v1 holds.
    expect(JSON.stringify(body)).not.toMatch(/token"/);
  });
});
