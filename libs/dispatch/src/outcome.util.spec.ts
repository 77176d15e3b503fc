import {
  InvalidationReasonSchema,
  TOPICS,
  type ApnsRequest,
  type FcmRequest,
} from '@app/contracts';
import type { OutboundRecord } from '@app/kafka';
import {
  buildInvalidation,
  buildOutcome,
  invalidationRecord,
  outcomeRecord,
  retryRecord,
} from './outcome.util';
import type { TerminalStatus } from './dispatch.types';

// The records built here are produced without being validated again (`prevalidated`): these
// tests are what makes that safe, so they cover every status, reason and optional field.

const NOW = Date.parse('2026-11-26T06:00:00.000Z');
const base = {
  jobId: 'job-1',
  appId: 'app',
  userId: 'user',
  deviceId: 'device',
  messageId: 'msg',
  token: 'ab'.repeat(32),
  createdAt: new Date(NOW + 5_000).toISOString(), // clock skew: latency must not go negative
  expiresAt: new Date(NOW + 60_000).toISOString(),
  attempt: 2,
};
const apns: ApnsRequest = {
  ...base,
  topic: 'com.example.chat',
  environment: 'sandbox',
  pushType: 'alert',
  priority: 10,
  collapseId: null,
  payload: { aps: { alert: 'hi' } },
};
const fcm: FcmRequest = { ...base, message: { notification: { title: 'hi' } } };

const expectValid = (r: OutboundRecord) => {
  expect(r.prevalidated).toBe(true);
  const parsed = r.topic.schema.safeParse(r.value);
  expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
};

describe('record builders produce values their topics accept', () => {
  const statuses: TerminalStatus[] = [
    'delivered',
    'invalid_token',
    'rejected',
    'expired',
    'failed',
  ];
  it.each(statuses)('outcome %s, with and without code and reason, long ones cut', (status) => {
    for (const provider of ['apns', 'fcm'] as const) {
      for (const detail of [
        {},
        { code: null, reason: null, now: NOW },
        { code: 'X'.repeat(500), reason: 'why '.repeat(1000), attempts: 0, now: NOW },
      ]) {
        expectValid(outcomeRecord(buildOutcome(apns, provider, status, detail)));
      }
    }
  });

  it('invalidations for every reason, with and without timestamp and environment', () => {
    const reasons = InvalidationReasonSchema.options;
    for (const reason of reasons) {
      for (const hint of [
        { reason },
        { reason, environment: 'production' as const, providerTimestamp: new Date(NOW - 1) },
      ]) {
        expectValid(invalidationRecord(buildInvalidation(apns, 'apns', hint, NOW)));
      }
    }
  });

  it('retries of APNs and FCM requests on their retry topics', () => {
    const a = retryRecord(TOPICS.apnsRetry, apns, new Date(NOW + 1000));
    const f = retryRecord(TOPICS.fcmRetry, fcm, new Date(NOW + 1000));
    [a, f].forEach(expectValid);
    expect(a.value).toMatchObject({ attempt: 3, notBefore: new Date(NOW + 1000).toISOString() });
  });
});
