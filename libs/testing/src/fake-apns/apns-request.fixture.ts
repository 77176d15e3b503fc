import type { ApnsRequest } from '@app/contracts';
import { uniqueId } from '../kafka.helpers';

/** The APNs topic the fixtures, the fake's default rules and the benchmarks use. */
export const FIXTURE_APNS_TOPIC = 'com.example.chat';

/** A valid `push.apns.request.v1` value (an alert, production, due now, alive a minute). */
export function apnsRequest(
  appId: string,
  token: string,
  over: Partial<ApnsRequest> = {},
): ApnsRequest {
  const now = Date.now();
  return {
    jobId: uniqueId('job'),
    appId,
    userId: uniqueId('u'),
    deviceId: uniqueId('d'),
    messageId: uniqueId('m'),
    token,
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 60_000).toISOString(),
    attempt: 0,
    topic: FIXTURE_APNS_TOPIC,
    environment: 'production',
    pushType: 'alert',
    priority: 10,
    collapseId: null,
    payload: { aps: { alert: { title: 'Alice', body: 'hello' }, badge: 1 }, ext: '{"k":1}' },
    ...over,
  };
}
