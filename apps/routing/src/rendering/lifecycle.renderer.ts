import { createHash } from 'node:crypto';
import { DEFAULT_APP_TEXTS, pickLocalized } from '@app/routing-rules';

/** The recall replacement's body when the app configures none for the device's locale. */
export const DEFAULT_RECALLED_TEXT = DEFAULT_APP_TEXTS.recalled;

/** APNs limits `apns-collapse-id` to 64 bytes. */
export const APNS_COLLAPSE_ID_MAX_BYTES = 64;

/**
 * The default `apns-collapse-id` of a message: its id when it fits APNs' 64 bytes, else `sha256:`
 * and 43 characters of the id's base64url SHA-256 (50 bytes). A recall sends the same id, so its
 * replacement takes the message's place in Notification Center.
 */
export function collapseIdFor(messageId: string): string {
  if (Buffer.byteLength(messageId, 'utf8') <= APNS_COLLAPSE_ID_MAX_BYTES) return messageId;
  return `sha256:${createHash('sha256').update(messageId).digest('base64url')}`;
}

/** The recalled text for a device locale (`texts.recalled` of the apps file, by locale fallback). */
export const recalledText = (
  table: Readonly<Record<string, string>> | null | undefined,
  locale: string | null | undefined,
): string => pickLocalized(table, locale) ?? DEFAULT_RECALLED_TEXT;

export type ApnsPayload = Record<string, unknown>;

/**
 * The APNs replacement of a recalled message's notification: same thread, the recalled text, no
 * sound, the corrected badge; `recalled` names the message for the app.
 */
export function apnsRecallPayload(
  text: string,
  threadId: string,
  badge: number | null,
  messageId: string,
): ApnsPayload {
  const aps: Record<string, unknown> = { alert: { body: text } };
  if (badge !== null) aps.badge = badge;
  aps['thread-id'] = threadId;
  return { aps, type: 'recall', recalled: [messageId], conversation: threadId };
}

/**
 * A background push (`content-available: 1`, nothing shown): the badge and what the app should
 * remove — a recalled message (`recalled`) or the notifications of read conversations.
 */
export function apnsBackgroundPayload(
  type: 'recall' | 'read',
  badge: number | null,
  fields: { recalled?: string[]; conversation?: string; conversations?: string[] },
): ApnsPayload {
  const aps: Record<string, unknown> = { 'content-available': 1 };
  if (badge !== null) aps.badge = badge;
  return { aps, type, ...fields };
}

export type FcmLifecycleMessage = Record<string, unknown> & {
  android: Record<string, unknown>;
  data: Record<string, string>;
};

/**
 * The FCM replacement of a recalled message's notification: the same `tag` (the conversation) so
 * it replaces the one shown, the recalled text, the badge, and data naming the message.
 */
export function fcmRecallNotification(
  text: string,
  threadId: string,
  badge: number | null,
  messageId: string,
  ttlSeconds: number,
): FcmLifecycleMessage {
  const notification: Record<string, unknown> = { tag: threadId };
  if (badge !== null) notification.notification_count = badge;
  return {
    notification: { body: text },
    android: { priority: 'high', ttl: `${Math.max(0, Math.floor(ttlSeconds))}s`, notification },
    data: { type: 'recall', messageId, conversation: threadId },
  };
}

/**
 * The recall of a message shown on a browser or desktop device (platform `web` / `desktop`): a
 * `webpush` block, no `android` block, no badge (a web badge is not a count). With `replace`, a
 * `webpush.notification` with the conversation's tag (the one the message was shown under) and the
 * recalled text takes its place; without, only `webpush.headers` and `data` (the page's service
 * worker removes it).
 */
export function fcmWebRecall(
  text: string,
  threadId: string,
  messageId: string,
  ttlSeconds: number,
  opts: { replace: boolean; icon?: string },
): { webpush: Record<string, unknown>; data: Record<string, string> } {
  const headers = { TTL: String(Math.max(0, Math.floor(ttlSeconds))), Urgency: 'high' };
  const data = { type: 'recall', messageId, conversation: threadId };
  if (!opts.replace) return { webpush: { headers }, data };
  const notification: Record<string, unknown> = { body: text };
  if (opts.icon) notification.icon = opts.icon;
  notification.tag = threadId;
  return { webpush: { headers, notification }, data };
}

/** An FCM data message (nothing shown): the app removes or clears, and sets the badge. */
export function fcmDataMessage(
  data: Record<string, string>,
  badge: number | null,
  ttlSeconds: number,
  priority: 'high' | 'normal',
): FcmLifecycleMessage {
  const withBadge = badge === null ? data : { ...data, badge: String(badge) };
  return {
    android: { priority, ttl: `${Math.max(0, Math.floor(ttlSeconds))}s` },
    data: withBadge,
  };
}
