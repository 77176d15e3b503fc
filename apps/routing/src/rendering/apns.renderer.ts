import type { ImMessageSent } from '@app/contracts';
import { NEUTRAL_APNS_LOC_KEY, type NotificationContent } from './notification-content';
import { fitBody, type FitResult } from './truncate.util';

/** APNs refuses alert payloads over 4 KB. */
export const APNS_PAYLOAD_LIMIT = 4096;

export type ApnsPayload = Record<string, unknown>;

const payloadBytes = (p: ApnsPayload) => Buffer.byteLength(JSON.stringify(p), 'utf8');

/**
 * The exact JSON body APNs receives: `aps` (alert, sound, badge, thread-id and the optional
 * flags of `offlinePush.apns`) and Tencent's top-level `ext`. `badge` null leaves the icon as is.
 */
export function renderApnsPayload(
  m: ImMessageSent,
  content: NotificationContent,
  badge: number | null,
): FitResult<ApnsPayload> {
  const apns = m.offlinePush?.apns;
  const build = (body: string): ApnsPayload => {
    const alert: Record<string, unknown> = {};
    if (content.title !== null) alert.title = content.title;
    if (apns?.subTitle && !content.hidden) alert.subtitle = apns.subTitle;
    if (content.hidden) alert['loc-key'] = NEUTRAL_APNS_LOC_KEY;
    alert.body = body;
    const aps: Record<string, unknown> = { alert, sound: content.sound };
    if (badge !== null) aps.badge = badge;
    aps['thread-id'] = content.threadId;
    if (apns?.mutableContent === 1 || apns?.image) aps['mutable-content'] = 1;
    if (apns?.contentAvailable === 1) aps['content-available'] = 1;
    if (apns?.interruptionLevel) aps['interruption-level'] = apns.interruptionLevel;
    const payload: ApnsPayload = { aps };
    if (apns?.image) payload.image = apns.image;
    if (content.ext !== null) payload.ext = content.ext;
    return payload;
  };
  return fitBody(content.body, APNS_PAYLOAD_LIMIT, build, payloadBytes);
}
