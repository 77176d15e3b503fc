import type { ImMessageSent } from '@app/contracts';
import { NEUTRAL_FCM_BODY_LOC_KEY, type NotificationContent } from './notification-content';
import { fitBody, type FitResult } from './truncate.util';

/** FCM's limit on what reaches the device (data plus notification). */
export const FCM_PAYLOAD_LIMIT = 4096;

export type FcmMessage = Record<string, unknown> & {
  notification: Record<string, unknown>;
  android: Record<string, unknown> & { notification: Record<string, unknown> };
  data: Record<string, string>;
};

/** Counted the way FCM does: the data and notification parts, top level and Android. */
const deviceBytes = (m: FcmMessage) =>
  Buffer.byteLength(JSON.stringify([m.data, m.notification, null, m.android.notification]), 'utf8');

/**
 * An FCM HTTP v1 message (the REST JSON, snake_case, without its token): notification
 * title/body/image, Android priority, ttl, collapse key, channel, sound, tag (one per conversation),
 * notification_count (the badge), and data.ext / data.messageId / data.conversation.
 */
export function renderFcmMessage(
  m: ImMessageSent,
  content: NotificationContent,
  badge: number | null,
  ttlSeconds: number,
): FitResult<FcmMessage> {
  const android = m.offlinePush?.android;
  const build = (body: string): FcmMessage => {
    const notification: Record<string, unknown> = {};
    if (content.title !== null) notification.title = content.title;
    notification.body = body;
    if (android?.image) notification.image = android.image;
    const androidNotification: Record<string, unknown> = {};
    if (android?.channelId) androidNotification.channel_id = android.channelId;
    androidNotification.sound = content.sound;
    androidNotification.tag = content.threadId;
    if (badge !== null) androidNotification.notification_count = badge;
    if (content.hidden) androidNotification.body_loc_key = NEUTRAL_FCM_BODY_LOC_KEY;
    const data: Record<string, string> = {
      messageId: m.messageId,
      conversation: content.threadId,
    };
    if (content.ext !== null) data.ext = content.ext;
    const androidConfig: FcmMessage['android'] = {
      priority: android?.priority ?? 'high',
      ttl: `${Math.max(0, Math.floor(ttlSeconds))}s`,
      notification: androidNotification,
    };
    if (android?.collapseKey) androidConfig.collapse_key = android.collapseKey;
    return { notification, android: androidConfig, data };
  };
  return fitBody(content.body, FCM_PAYLOAD_LIMIT, build, deviceBytes);
}
