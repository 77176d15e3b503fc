import type apn from '@parse/node-apn';
import type { ApnsRawAnswer } from './apns-response.classifier';

/** node-apn's `{ sent, failed }` for a single device, flattened. */
export function classifyNodeApnResponse(
  r: apn.Responses<apn.ResponseSent, apn.ResponseFailure>,
): ApnsRawAnswer {
  if (r.sent.length > 0) return { sent: true };
  const f = r.failed[0] as
    | (apn.ResponseFailure & { response?: { reason?: string; timestamp?: number | string } })
    | undefined;
  if (!f) return { sent: false, error: 'node-apn reported neither sent nor failed' };
  if (f.status !== undefined && f.status !== null && typeof f.status === 'number') {
    const ts = f.response?.timestamp;
    return {
      sent: false,
      status: f.status,
      reason: f.response?.reason ?? (f.error instanceof Error ? f.error.message : undefined),
      timestamp: ts === undefined ? undefined : Number(ts),
    };
  }
  return { sent: false, error: f.error instanceof Error ? f.error.message : 'unknown error' };
}
