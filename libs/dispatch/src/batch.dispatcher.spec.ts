import { TOPICS, type ApnsRequest } from '@app/contracts';
import type { ConsumedRecord, OutboundRecord } from '@app/kafka';
import { BatchDispatcher } from './batch.dispatcher';
import { dispatchMetrics } from './dispatch.metrics';
import type { SendResult } from './dispatch.types';
import { RetryPolicy } from './retry.policy';

const NOW = Date.parse('2026-11-26T06:00:00.000Z');

const req = (jobId: string, over: Partial<ApnsRequest> = {}): ApnsRequest => ({
  jobId,
  appId: 'a',
  userId: 'u',
  deviceId: 'd',
  messageId: 'm',
  token: 'ab'.repeat(32),
  createdAt: new Date(NOW - 50).toISOString(),
  expiresAt: new Date(NOW + 60_000).toISOString(),
  attempt: 0,
  topic: 't',
  environment: 'production',
  pushType: 'alert',
  priority: 10,
  collapseId: null,
  payload: { aps: {} },
  ...over,
});

const rec = (value: ApnsRequest, offset = '0'): ConsumedRecord<ApnsRequest> => ({
  topic: TOPICS.apnsRequest.name,
  partition: 3,
  offset,
  key: 'a:u',
  value,
  headers: {},
  timestamp: '0',
  context: { correlationId: 'c' },
});

const byTopic = (records: OutboundRecord[] | undefined, name: string) =>
  (records ?? [])
    .filter((r) => r.topic.name === name)
    .map((r) => r.value as Record<string, unknown>);

function dispatcher(results: SendResult[], sent: string[][] = []) {
  return new BatchDispatcher<ApnsRequest>({
    provider: 'apns',
    retryTopic: TOPICS.apnsRetry,
    retryPolicy: new RetryPolicy({ baseDelayMs: 1000, random: () => 0.5 }),
    now: () => NOW,
    send: async (rs) => {
      sent.push(rs.map((r) => r.jobId));
      return rs.map((_, i) => results[i]);
    },
  });
}

describe('BatchDispatcher', () => {
  it('observes end-to-end latency from the message sentAt carried by the request', async () => {
    const count = async () =>
      (await dispatchMetrics.endToEndSeconds.get()).values.find(
        (v) =>
          v.metricName === 'push_end_to_end_latency_seconds_count' && v.labels.provider === 'apns',
      )?.value ?? 0;
    const before = await count();
    const d = dispatcher([{ kind: 'delivered' }, { kind: 'delivered' }]);
    await d.handleRequests(
      [
        rec(req('e1', { sentAt: new Date(NOW - 1500).toISOString() }), '0'),
        rec(req('e2'), '1'), // no sentAt (written before it was carried): not observed
      ],
      { partition: 1 },
    );
    expect((await count()) - before).toBe(1);
    const sum = (await dispatchMetrics.endToEndSeconds.get()).values.find(
      (v) => v.metricName === 'push_end_to_end_latency_seconds_sum' && v.labels.provider === 'apns',
    )?.value;
    expect(sum).toBeGreaterThanOrEqual(1.5);
  });

  it('counts every send and outcome once its batch is done (one increment per label set)', async () => {
    const value = async (metric: typeof dispatchMetrics.sends, labels: Record<string, string>) =>
      (await metric.get()).values.find((v) =>
        Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x),
      )?.value ?? 0;
    const sent = { provider: 'apns', app: 'other', status: 'delivered', reason: 'ok' };
    const rejected = { provider: 'apns', app: 'other', status: 'rejected', reason: 'BadTopic' };
    const done = { provider: 'apns', app: 'other', status: 'delivered' };
    const before = [
      await value(dispatchMetrics.sends, sent),
      await value(dispatchMetrics.sends, rejected),
      await value(dispatchMetrics.outcomes, done),
    ];
    const d = dispatcher([
      { kind: 'delivered' },
      { kind: 'rejected', code: 'BadTopic', message: 'no' },
      { kind: 'delivered' },
    ]);
    await d.handleRequests([rec(req('t1'), '0'), rec(req('t2'), '1'), rec(req('t3'), '2')], {
      partition: 2,
    });
    expect([
      (await value(dispatchMetrics.sends, sent)) - before[0],
      (await value(dispatchMetrics.sends, rejected)) - before[1],
      (await value(dispatchMetrics.outcomes, done)) - before[2],
    ]).toEqual([2, 1, 2]);
  });

  it('turns results into outcomes, invalidations, dead letters and retries', async () => {
    const d = dispatcher([
      {
        kind: 'delivered',
        invalidation: { reason: 'environment_mismatch', environment: 'sandbox' },
      },
      {
        kind: 'invalid_token',
        code: 'Unregistered',
        message: 'gone',
        invalidation: { reason: 'unregistered', providerTimestamp: new Date(NOW - 1000) },
      },
      { kind: 'rejected', code: 'PayloadTooLarge', message: 'too big' },
      { kind: 'retry', code: 'TooManyRequests', message: '429', retryAfterMs: 5000 },
    ]);
    const r = await d.handleRequests(
      [rec(req('j1')), rec(req('j2')), rec(req('j3')), rec(req('j4'))],
      { partition: 3 },
    );
    const outcomes = byTopic(r.records, TOPICS.pushOutcome.name);
    expect(outcomes.map((o) => [o.jobId, o.status, o.attempts, o.latencyMs])).toEqual([
      ['j1', 'delivered', 1, 50],
      ['j2', 'invalid_token', 1, 50],
      ['j3', 'rejected', 1, 50],
    ]);
    expect(byTopic(r.records, TOPICS.tokenInvalidated.name)).toMatchObject([
      { reason: 'environment_mismatch', environment: 'sandbox' },
      { reason: 'unregistered', providerTimestamp: new Date(NOW - 1000).toISOString() },
    ]);
    expect(byTopic(r.records, TOPICS.deadLetter.name)).toMatchObject([
      { error: { code: 'PayloadTooLarge' } },
    ]);
    expect(byTopic(r.records, TOPICS.apnsRetry.name)).toMatchObject([
      { jobId: 'j4', attempt: 1, notBefore: new Date(NOW + 5000).toISOString() },
    ]);
  });

  it('expires instead of retrying past expiresAt, and does not send what already expired', async () => {
    const sent: string[][] = [];
    const d = dispatcher(
      [{ kind: 'retry', code: 'ServiceUnavailable', message: '503', retryAfterMs: 10_000 }],
      sent,
    );
    const r = await d.handleRequests(
      [
        rec(req('late', { expiresAt: new Date(NOW + 5000).toISOString() })),
        rec(req('gone', { expiresAt: new Date(NOW - 1).toISOString(), attempt: 2 })),
      ],
      { partition: 0 },
    );
    expect(sent).toEqual([['late']]);
    expect(byTopic(r.records, TOPICS.pushOutcome.name)).toMatchObject([
      { jobId: 'gone', status: 'expired', code: 'EXPIRED', attempts: 2 },
      { jobId: 'late', status: 'expired', code: 'ServiceUnavailable', attempts: 1 },
    ]);
  });

  it('answers a redelivered batch from memory without sending again', async () => {
    const sent: string[][] = [];
    const d = dispatcher([{ kind: 'delivered' }], sent);
    const first = await d.handleRequests([rec(req('j'))], { partition: 1 });
    const again = await d.handleRequests([rec(req('j')), rec(req('j'))], { partition: 1 });
    expect(sent).toEqual([['j']]);
    expect(again.records).toEqual(first.records);
  });

  it('parks a retry batch at the first record not due yet', async () => {
    const d = dispatcher([{ kind: 'delivered' }]);
    const due = req('due', { attempt: 1, notBefore: new Date(NOW - 10).toISOString() });
    const later = req('later', { attempt: 1, notBefore: new Date(NOW + 3000).toISOString() });
    const r = await d.handleRetries([rec(due, '7'), rec(later, '8'), rec(due, '9')], {
      partition: 2,
    });
    expect(r.deferFrom).toEqual({ offset: '8', until: NOW + 3000 });
    expect(byTopic(r.records, TOPICS.pushOutcome.name).map((o) => o.jobId)).toEqual(['due']);
  });
});
