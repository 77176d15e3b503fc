import type { FcmRequest } from '@app/contracts';
import type { Message } from 'firebase-admin/messaging';

const DURATION = /^(\d+)(?:\.(\d{1,9}))?s$/;

/** A Google duration string (`"3600s"`, `"1.5s"`) in ms; undefined when it is not one. */
export function durationToMs(value: string): number | undefined {
  const m = DURATION.exec(value);
  if (!m) return undefined;
  return Number(m[1]) * 1000 + Math.round(Number(`0.${m[2] ?? '0'}`) * 1000);
}

/**
 * The firebase-admin message for a request. The request carries an FCM HTTP v1 message in wire
 * form (snake_case names pass through firebase-admin unchanged); the one field firebase-admin
 * types differently is `android.ttl` (ms, not a duration string), converted here. The TTL is also
 * capped at what is left of the job's life, so a retried push cannot be delivered after
 * `expiresAt`.
 */
export function toAdminMessage(req: FcmRequest, now = Date.now()): Message {
  // Shallow copies: firebase-admin deep-copies the message itself; only `android` is changed here.
  const msg: Record<string, unknown> = { ...req.message };
  delete msg.topic;
  delete msg.condition;
  const remaining = Math.max(0, Date.parse(req.expiresAt) - now);
  const android: Record<string, unknown> =
    typeof msg.android === 'object' && msg.android !== null ? { ...msg.android } : {};
  const given =
    typeof android.ttl === 'string'
      ? durationToMs(android.ttl)
      : typeof android.ttl === 'number'
        ? android.ttl
        : undefined;
  // A ttl firebase-admin cannot read is left as it is, so that its validation rejects it by name.
  if (android.ttl === undefined || given !== undefined) {
    android.ttl = Math.floor(Math.min(given ?? remaining, remaining) / 1000) * 1000;
    msg.android = android;
  }
  return { ...msg, token: req.token };
}
