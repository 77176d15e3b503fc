import type { FcmRequest } from '@app/contracts';
import type { Message } from 'firebase-admin/messaging';

const DURATION = /^(\d+)(?:\.(\d{1,9}))?s$/;

/** A Google duration string (`"3600s"`, `"1.5s"`) in ms; undefined when it is not one. */
export function durationToMs(value: string): number | undefined {
  const m = DURATION.exec(value);
  if (!m) return undefined;
  return Number(m[1]) * 1000 + Math.round(Number(`0.${m[2] ?? '0'}`) * 1000);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** `android.ttl` as firebase-admin types it (ms), at most `remaining`; an unreadable one is kept. */
function cappedAndroid(android: Record<string, unknown>, remaining: number) {
  const given =
    typeof android.ttl === 'string'
      ? durationToMs(android.ttl)
      : typeof android.ttl === 'number'
        ? android.ttl
        : undefined;
  // A ttl firebase-admin cannot read is left as it is, so that its validation rejects it by name.
  if (android.ttl !== undefined && given === undefined) return undefined;
  return { ...android, ttl: Math.floor(Math.min(given ?? remaining, remaining) / 1000) * 1000 };
}

/** `webpush.headers.TTL` (seconds, a string) at most what is left; an unreadable one is kept. */
function cappedWebpush(webpush: Record<string, unknown>, remaining: number) {
  const headers = isObject(webpush.headers) ? { ...webpush.headers } : {};
  const given = typeof headers.TTL === 'string' ? Number(headers.TTL) : undefined;
  if (
    headers.TTL !== undefined &&
    !(given !== undefined && Number.isInteger(given) && given >= 0)
  ) {
    return undefined;
  }
  headers.TTL = String(Math.floor(Math.min((given ?? Infinity) * 1000, remaining) / 1000));
  return { ...webpush, headers };
}

/**
 * The firebase-admin message for a request. The request carries an FCM HTTP v1 message in wire
 * form (snake_case names pass through firebase-admin unchanged: `fcm_options`, `*_loc_key`); the
 * one field firebase-admin types differently is `android.ttl` (ms, not a duration string),
 * converted here. The TTL is also capped at what is left of the job's life, so a retried push
 * cannot be delivered after `expiresAt`: `android.ttl`, and `webpush.headers.TTL` for a browser
 * or desktop device (a message with a `webpush` block and no `android` gets no `android` block).
 */
export function toAdminMessage(req: FcmRequest, now = Date.now()): Message {
  // Shallow copies: firebase-admin deep-copies the message itself; only `android` and `webpush`
  // are changed here.
  const msg: Record<string, unknown> = { ...req.message };
  delete msg.topic;
  delete msg.condition;
  const remaining = Math.max(0, Date.parse(req.expiresAt) - now);
  if (isObject(msg.webpush)) {
    const webpush = cappedWebpush(msg.webpush, remaining);
    if (webpush) msg.webpush = webpush;
  }
  if (isObject(msg.android) || !isObject(msg.webpush)) {
    const android = cappedAndroid(isObject(msg.android) ? msg.android : {}, remaining);
    if (android) msg.android = android;
  }
  return { ...msg, token: req.token };
}
