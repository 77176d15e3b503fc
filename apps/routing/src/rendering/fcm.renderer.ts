import type { ImMessageSent } from '@app/contracts';
import { NEUTRAL_FCM_BODY_LOC_KEY, type NotificationContent } from './notification-content';
import { fitBody, type FitResult } from './truncate.util';

/** FCM's limit on what reaches the device (data plus notification). */
export const FCM_PAYLOAD_LIMIT = 4096;

type Json = Record<string, unknown>;

export type FcmMessage = Json & {
  notification?: Json;
  android?: Json & { notification?: Json };
  webpush?: Json & { headers: Record<string, string>; notification?: Json };
  data: Record<string, string>;
};

/** What the device and the apps file add to the message's FCM form. */
export interface FcmRenderOptions {
  /** The device is a browser or a desktop app (platform `web` / `desktop`): a `webpush` block. */
  web?: boolean;
  /** The apps file's `fcm.dataOnly`. */
  dataOnly?: boolean;
  /** The apps file's `web` defaults (icon, link). */
  webDefaults?: { icon?: string; link?: string };
}

type OfflinePush = NonNullable<ImMessageSent['offlinePush']>;

/** Counted the way FCM does: the data and notification parts (top level, Android and Web). */
const deviceBytes = (m: FcmMessage) =>
  Buffer.byteLength(
    JSON.stringify([
      m.data,
      m.notification ?? null,
      m.android?.notification ?? null,
      m.webpush?.notification ?? null,
    ]),
    'utf8',
  );

const ttlOf = (ttlSeconds: number) => Math.max(0, Math.floor(ttlSeconds));

/** `android` without its notification: priority, ttl, collapse key. */
function androidConfig(op: OfflinePush | null | undefined, ttlSeconds: number): Json {
  const config: Json = { priority: op?.android?.priority ?? 'high', ttl: `${ttlOf(ttlSeconds)}s` };
  if (op?.android?.collapseKey) config.collapse_key = op.android.collapseKey;
  return config;
}

/** `webpush.headers`: `TTL` (seconds left) and `Urgency` (`web.urgency`, else from the priority). */
function webHeaders(op: OfflinePush | null | undefined, ttlSeconds: number) {
  const urgency = op?.web?.urgency ?? (op?.android?.priority === 'normal' ? 'normal' : 'high');
  return { TTL: String(ttlOf(ttlSeconds)), Urgency: urgency };
}

/** `android.notification`: channel, sound, tag, count and the localisation keys. */
function androidNotification(
  op: OfflinePush | null | undefined,
  c: NotificationContent,
  badge: number | null,
): Json {
  const a = op?.android;
  const n: Json = {};
  if (a?.channelId) n.channel_id = a.channelId;
  n.sound = c.sound;
  n.tag = c.threadId;
  if (badge !== null) n.notification_count = badge;
  if (a?.titleLocKey) n.title_loc_key = a.titleLocKey;
  if (a?.titleLocKey && a.titleLocArgs) n.title_loc_args = a.titleLocArgs;
  if (c.hidden) n.body_loc_key = NEUTRAL_FCM_BODY_LOC_KEY;
  else if (a?.bodyLocKey) {
    n.body_loc_key = a.bodyLocKey;
    if (a.bodyLocArgs) n.body_loc_args = a.bodyLocArgs;
  }
  return n;
}

/**
 * Data-only: what the notification would have shown, as strings in `data`, for an app that
 * renders the push itself (`messageId`, `conversation`, `title`, `body`, `sound`, `badge`, `ext`,
 * `image`, and the localisation keys, arguments as JSON arrays).
 */
function dataOnlyFields(
  op: OfflinePush | null | undefined,
  c: NotificationContent,
  body: string,
  badge: number | null,
): Record<string, string> {
  const a = op?.android;
  const d: Record<string, string> = {};
  if (c.title !== null) d.title = c.title;
  d.body = body;
  d.sound = c.sound;
  if (badge !== null) d.badge = String(badge);
  if (a?.image) d.image = a.image;
  if (a?.titleLocKey) d.titleLocKey = a.titleLocKey;
  if (a?.titleLocKey && a.titleLocArgs) d.titleLocArgs = JSON.stringify(a.titleLocArgs);
  if (c.hidden) d.bodyLocKey = NEUTRAL_FCM_BODY_LOC_KEY;
  else if (a?.bodyLocKey) {
    d.bodyLocKey = a.bodyLocKey;
    if (a.bodyLocArgs) d.bodyLocArgs = JSON.stringify(a.bodyLocArgs);
  }
  return d;
}

/** `webpush.notification` and `fcm_options.link` of a browser or desktop device. */
function webNotification(
  op: OfflinePush | null | undefined,
  c: NotificationContent,
  body: string,
  opts: FcmRenderOptions,
) {
  const n: Json = {};
  if (c.title !== null) n.title = c.title;
  n.body = body;
  const icon = op?.web?.icon ?? opts.webDefaults?.icon;
  if (icon) n.icon = icon;
  n.tag = c.threadId;
  if (op?.android?.image) n.image = op.android.image;
  const link = op?.web?.link ?? opts.webDefaults?.link;
  return { notification: n, ...(link ? { fcm_options: { link } } : {}) };
}

/**
 * An FCM HTTP v1 message (the REST JSON, snake_case, without its token).
 *
 * - Android (default): notification title/body/image, Android priority, ttl, collapse key, channel,
 *   sound, tag (one per conversation), notification_count (the badge), localisation keys.
 * - Web and desktop (`opts.web`): a `webpush` block (headers TTL and Urgency, notification with
 *   title, body, icon, tag, image; `fcm_options.link`) instead of `notification` and `android`.
 * - Data-only (`offlinePush.android.dataOnly`, or the app's `fcm.dataOnly`): no notification
 *   anywhere, its fields in `data`. Id-only: data-only with `messageId` and `conversation` alone.
 *
 * `data` always carries `messageId` and `conversation`, and `ext` when there is one.
 */
export function renderFcmMessage(
  m: ImMessageSent,
  content: NotificationContent,
  badge: number | null,
  ttlSeconds: number,
  opts: FcmRenderOptions = {},
): FitResult<FcmMessage> {
  const op = m.offlinePush;
  const dataOnly = content.idOnly || op?.android?.dataOnly === true || opts.dataOnly === true;
  const build = (body: string): FcmMessage => {
    const data: Record<string, string> = { messageId: m.messageId, conversation: content.threadId };
    if (dataOnly && !content.idOnly) Object.assign(data, dataOnlyFields(op, content, body, badge));
    if (content.ext !== null) data.ext = content.ext;
    if (opts.web) {
      const webpush: FcmMessage['webpush'] = { headers: webHeaders(op, ttlSeconds) };
      if (!dataOnly) Object.assign(webpush, webNotification(op, content, body, opts));
      return { webpush, data };
    }
    const android = androidConfig(op, ttlSeconds);
    if (dataOnly) return { android, data };
    const notification: Json = {};
    if (content.title !== null) notification.title = content.title;
    notification.body = body;
    if (op?.android?.image) notification.image = op.android.image;
    android.notification = androidNotification(op, content, badge);
    return { notification, android, data };
  };
  return fitBody(content.body, FCM_PAYLOAD_LIMIT, build, deviceBytes);
}
