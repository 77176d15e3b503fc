import type {
  ApnsRequest,
  FcmRequest,
  ImMessageSent,
  PushSettings,
  RegisteredDevice,
} from '@app/contracts';
import type { AppConfig } from '@app/config';
import { renderApnsPayload } from '../rendering/apns.renderer';
import { renderFcmMessage } from '../rendering/fcm.renderer';
import { collapseIdFor } from '../rendering/lifecycle.renderer';
import {
  notificationContent,
  type NotificationContent,
  type PushPlatform,
} from '../rendering/notification-content';

export interface RequestBase {
  jobId: string;
  appId: string;
  userId: string;
  now: Date;
  expiresAt: Date;
}

/** What rendering made of one device: a request, or why there is none. */
export type BuiltRequest =
  | { kind: 'apns'; request: ApnsRequest; bytes: number }
  | { kind: 'fcm'; request: FcmRequest; bytes: number }
  | { kind: 'suppressed'; code: 'empty_content' | 'privacy_id_only'; reason: string }
  | { kind: 'rejected'; code: string; reason: string };

/** A request's fields around its payload, in JSON (ids, dates, topic): a generous estimate. */
export const REQUEST_OVERHEAD_BYTES = 700;

export const platformOf = (d: RegisteredDevice): PushPlatform =>
  d.provider === 'apns' ? 'apns' : 'fcm';

/**
 * The provider request for one device that should ring. `badge` is the count to show, or null to
 * leave the icon as it is.
 */
export function buildDeviceRequest(
  m: ImMessageSent,
  device: RegisteredDevice,
  settings: PushSettings | undefined,
  app: AppConfig | undefined,
  badge: number | null,
  base: RequestBase,
): BuiltRequest {
  const platform = platformOf(device);
  const content = notificationContent(m, settings, platform, {
    locale: device.locale,
    texts: app?.texts,
    appPrivacy: app?.privacy,
  });
  if (!content) {
    return {
      kind: 'suppressed',
      code: 'empty_content',
      reason: 'the message has no push text and offlinePush.desc is empty',
    };
  }
  const common = requestCommon(m, device, base);
  if (platform === 'apns') return buildApnsRequest(m, device, app, content, badge, common);
  const remaining = Math.max(0, (base.expiresAt.getTime() - base.now.getTime()) / 1000);
  const fit = renderFcmMessage(m, content, badge, remaining, {
    web: device.platform === 'web' || device.platform === 'desktop',
    dataOnly: app?.fcm?.dataOnly,
    webDefaults: app?.web,
  });
  if (!fit.ok) return tooLarge(platform, content, fit.bytes);
  return {
    kind: 'fcm',
    bytes: fit.bytes + device.token.length + REQUEST_OVERHEAD_BYTES,
    request: { ...common, message: fit.value },
  };
}

/** The fields every provider request has, around its payload. */
export function requestCommon(m: ImMessageSent, device: RegisteredDevice, base: RequestBase) {
  return {
    jobId: base.jobId,
    appId: base.appId,
    userId: base.userId,
    deviceId: device.deviceId,
    messageId: m.messageId,
    token: device.token,
    createdAt: base.now.toISOString(),
    sentAt: m.sentAt,
    expiresAt: base.expiresAt.toISOString(),
    attempt: 0,
  };
}

function buildApnsRequest(
  m: ImMessageSent,
  device: RegisteredDevice,
  app: AppConfig | undefined,
  content: NotificationContent,
  badge: number | null,
  common: ReturnType<typeof requestCommon>,
): BuiltRequest {
  const topic = device.topic ?? app?.apns?.topics[0];
  if (!topic) {
    return {
      kind: 'rejected',
      code: 'no_apns_topic',
      reason: 'the device names no APNs topic and the app configures none',
    };
  }
  const fit = renderApnsPayload(m, content, badge);
  if (!fit.ok) return tooLarge('apns', content, fit.bytes);
  const pushType = device.pushType ?? 'alert';
  return {
    kind: 'apns',
    bytes: fit.bytes + device.token.length + REQUEST_OVERHEAD_BYTES,
    request: {
      ...common,
      topic,
      environment: device.environment ?? 'production',
      pushType,
      // Apple requires 5 for background (content-available only) pushes.
      priority: pushType === 'background' ? 5 : (m.offlinePush?.apns?.priority ?? 10),
      // Every alert has a collapse id (the message's, by default): a recall's replacement sends
      // the same one and takes the notification's place.
      collapseId:
        m.offlinePush?.apns?.collapseId ??
        (pushType === 'alert' ? collapseIdFor(m.messageId) : null),
      payload: fit.value,
    },
  };
}

function tooLarge(platform: PushPlatform, content: NotificationContent, bytes: number) {
  return {
    kind: 'rejected' as const,
    code: 'payload_too_large',
    reason:
      `the ${platform === 'apns' ? 'APNs payload' : 'FCM message'} is ${bytes} bytes even with ` +
      `an empty body (ext ${Buffer.byteLength(content.ext ?? '', 'utf8')} bytes); the limit is 4096`,
  };
}
