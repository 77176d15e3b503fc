import type { ImMessageSent } from '@app/contracts';
import { NEUTRAL_APNS_LOC_KEY, type NotificationContent } from './notification-content';
import { fitBody, type FitResult } from './truncate.util';

/** APNs refuses alert payloads over 4 KB. */
export const APNS_PAYLOAD_LIMIT = 4096;

export type ApnsPayload = Record<string, unknown>;

type ApnsOptions = NonNullable<NonNullable<ImMessageSent['offlinePush']>['apns']>;

const payloadBytes = (p: ApnsPayload) => Buffer.byteLength(JSON.stringify(p), 'utf8');

/**
 * `aps.alert`: title, subtitle, the localisation keys of `offlinePush.apns` and the body. A hidden
 * preview keeps the title (and its key) but takes the neutral `loc-key` instead of the message's
 * body key and arguments; id-only has nothing but the neutral text and its key.
 */
function alertOf(
  content: NotificationContent,
  apns: ApnsOptions | null | undefined,
  body: string,
): Record<string, unknown> {
  const alert: Record<string, unknown> = {};
  if (content.idOnly) return { 'loc-key': NEUTRAL_APNS_LOC_KEY, body };
  if (content.title !== null) alert.title = content.title;
  if (apns?.titleLocKey) alert['title-loc-key'] = apns.titleLocKey;
  if (apns?.titleLocKey && apns.titleLocArgs) alert['title-loc-args'] = apns.titleLocArgs;
  if (apns?.subTitle && !content.hidden) alert.subtitle = apns.subTitle;
  if (content.hidden) alert['loc-key'] = NEUTRAL_APNS_LOC_KEY;
  else if (apns?.locKey) {
    alert['loc-key'] = apns.locKey;
    if (apns.locArgs) alert['loc-args'] = apns.locArgs;
  }
  alert.body = body;
  return alert;
}

/**
 * The exact JSON body APNs receives: `aps` (alert, sound, badge, thread-id and the optional
 * flags of `offlinePush.apns`) and Tencent's top-level `ext`. `badge` null leaves the icon as is.
 * Id-only: `mutable-content: 1` (the app's notification service extension fetches the content)
 * and only the ids at the top level: `messageId`, `conversation` (`c2c:<peer>` / `group:<id>`).
 */
export function renderApnsPayload(
  m: ImMessageSent,
  content: NotificationContent,
  badge: number | null,
): FitResult<ApnsPayload> {
  const apns = m.offlinePush?.apns;
  const build = (body: string): ApnsPayload => {
    const aps: Record<string, unknown> = {
      alert: alertOf(content, apns, body),
      sound: content.sound,
    };
    if (badge !== null) aps.badge = badge;
    aps['thread-id'] = content.threadId;
    if (content.idOnly || apns?.mutableContent === 1 || apns?.image) aps['mutable-content'] = 1;
    if (apns?.contentAvailable === 1) aps['content-available'] = 1;
    if (apns?.interruptionLevel) aps['interruption-level'] = apns.interruptionLevel;
    const payload: ApnsPayload = { aps };
    if (content.idOnly) return { aps, messageId: m.messageId, conversation: content.threadId };
    if (apns?.image) payload.image = apns.image;
    if (content.ext !== null) payload.ext = content.ext;
    return payload;
  };
  return fitBody(content.body, APNS_PAYLOAD_LIMIT, build, payloadBytes);
}
