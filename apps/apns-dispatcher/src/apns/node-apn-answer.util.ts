import type { ApnsRawAnswer } from './apns-response.classifier';

/**
 * What node-apn's client rejects a single device's request with (`Client.write`, @parse/node-apn
 * 8.1): `{ device, status, response: { reason, timestamp } }` for an APNs error answer, or
 * `{ device, error }` for a transport failure (timeout, reset, refused stream, connect error).
 */
export interface NodeApnFailure {
  status?: unknown;
  error?: unknown;
  response?: { reason?: string; timestamp?: number | string };
}

/** node-apn's failure for one device, flattened. */
export function classifyNodeApnFailure(f: unknown): ApnsRawAnswer {
  if (f === null || typeof f !== 'object') {
    return { sent: false, error: f instanceof Error ? f.message : 'unknown error' };
  }
  const { status, error, response } = f as NodeApnFailure;
  if (typeof status === 'number') {
    const ts = response?.timestamp;
    return {
      sent: false,
      status,
      reason: response?.reason ?? (error instanceof Error ? error.message : undefined),
      timestamp: ts === undefined ? undefined : Number(ts),
    };
  }
  return { sent: false, error: error instanceof Error ? error.message : 'unknown error' };
}
