import type { SendResult } from '@app/dispatch';

/** What node-apn's `Provider.send` reports for one device (one of `sent` or `failed`). */
export interface ApnsRawAnswer {
  sent: boolean;
  status?: number;
  reason?: string;
  /** APNs's `timestamp` (ms since epoch) on 410. */
  timestamp?: number;
  /** Transport failures (timeout, reset, refused stream, connect error) have no status. */
  error?: string;
  /** Captured from the response headers (node-apn drops it). */
  retryAfterMs?: number;
}

/**
 * The classification before the sender's own follow-ups: `bad_device_token` may be retried in the
 * other environment; `expired_provider_token` is retried at once with the refreshed token;
 * `auth` counts on the alarm metric and retries without touching the device token.
 */
export type ApnsVerdict =
  | { kind: 'result'; result: SendResult }
  | { kind: 'bad_device_token'; message: string }
  | { kind: 'expired_provider_token' }
  | { kind: 'auth'; reason: string; retryAfterMs?: number };

const TOKEN_GONE: Record<string, 'unregistered' | 'expired_token'> = {
  Unregistered: 'unregistered',
  ExpiredToken: 'expired_token',
};

/** Maps an APNs answer to what the dispatch library does with it (Apple's status table). */
export function classifyApnsAnswer(a: ApnsRawAnswer): ApnsVerdict {
  const result = (r: SendResult): ApnsVerdict => ({ kind: 'result', result: r });
  if (a.sent) return result({ kind: 'delivered', code: '200' });
  // node-apn puts prose in place of the reason for some answers ("Error 500, stream ended...").
  const reason =
    a.reason && /^\w+$/.test(a.reason) ? a.reason : a.status ? `HTTP${a.status}` : 'TransportError';
  const message = a.error ?? a.reason ?? reason;
  if (a.status === undefined) return result({ kind: 'retry', code: 'TransportError', message });
  switch (a.status) {
    case 410: {
      const ts =
        typeof a.timestamp === 'number' && a.timestamp > 0 ? new Date(a.timestamp) : undefined;
      return result({
        kind: 'invalid_token',
        code: reason,
        message: `APNs 410 ${reason}`,
        invalidation: { reason: TOKEN_GONE[reason] ?? 'unregistered', providerTimestamp: ts },
      });
    }
    case 400:
      if (reason === 'BadDeviceToken') {
        return { kind: 'bad_device_token', message: 'APNs 400 BadDeviceToken' };
      }
      return result({ kind: 'rejected', code: reason, message: `APNs 400 ${reason}` });
    case 413:
      return result({ kind: 'rejected', code: reason, message: `APNs 413 ${reason}` });
    case 403:
      if (reason === 'ExpiredProviderToken') return { kind: 'expired_provider_token' };
      return { kind: 'auth', reason, retryAfterMs: a.retryAfterMs };
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
    case 408:
      return result({
        kind: 'retry',
        code: reason,
        message: `APNs ${a.status} ${reason}`,
        retryAfterMs: a.retryAfterMs,
      });
    default:
      // 404 BadPath, 405 BadMethod: our request is malformed, not the user's; nothing to retry.
      return result({ kind: 'failed', code: reason, message: `APNs ${a.status} ${reason}` });
  }
}
