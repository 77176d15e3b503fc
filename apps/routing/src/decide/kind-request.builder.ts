import type { ImMessageSent, PushSettings, RegisteredDevice } from '@app/contracts';
import type { AppConfig } from '@app/config';
import type { MessageKind } from '@app/routing-rules';
import {
  callContent,
  FCM_CALL_LIMIT,
  renderFcmCall,
  renderVoipPayload,
  VOIP_PAYLOAD_LIMIT,
} from '../rendering/call.renderer';
import { effectivePrivacy } from '../rendering/notification-content';
import {
  LIVE_ACTIVITY_PAYLOAD_LIMIT,
  renderLiveActivityPayload,
} from '../rendering/live-activity.renderer';
import {
  platformOf,
  REQUEST_OVERHEAD_BYTES,
  requestCommon,
  type BuiltRequest,
  type RequestBase,
} from './device-request.builder';

export const VOIP_TOPIC_SUFFIX = '.voip';
export const LIVE_ACTIVITY_TOPIC_SUFFIX = '.push-type.liveactivity';

/**
 * The APNs topic of a push type with its own topic: the device's topic when it already ends with
 * the suffix, else the device's (or the app's first) bundle topic plus the suffix.
 */
export function suffixedTopic(
  device: RegisteredDevice,
  app: AppConfig | undefined,
  suffix: string,
): string | undefined {
  const base = device.topic ?? app?.apns?.topics[0];
  if (!base) return undefined;
  return base.endsWith(suffix) ? base : `${base}${suffix}`;
}

const noTopic: BuiltRequest = {
  kind: 'rejected',
  code: 'no_apns_topic',
  reason: 'the device names no APNs topic and the app configures none',
};

const idOnlyLiveActivity: BuiltRequest = {
  kind: 'suppressed',
  code: 'privacy_id_only',
  reason:
    "the user's privacy (or the app's) is id_only: a Live Activity update carries its content-state and alert, which id-only never sends",
};

const tooLarge = (what: string, bytes: number, limit: number): BuiltRequest => ({
  kind: 'rejected',
  code: 'payload_too_large',
  reason: `the ${what} is ${bytes} bytes even with an empty body; the limit is ${limit}`,
});

/**
 * The request of a call or a Live Activity update for one device (the rules chose the devices:
 * VoIP and FCM devices for a call, live-activity tokens for an update). Neither changes a badge.
 */
export function buildKindRequest(
  kind: Exclude<MessageKind, 'chat'>,
  m: ImMessageSent,
  device: RegisteredDevice,
  settings: PushSettings | undefined,
  app: AppConfig | undefined,
  base: RequestBase,
): BuiltRequest {
  const common = requestCommon(m, device, base);
  const apnsCommon = { environment: device.environment ?? 'production', collapseId: null };
  if (kind === 'live_activity') {
    // Id-only lets nothing but ids leave: an update is its content-state (and alert), never ids.
    if (effectivePrivacy(settings, app?.privacy) === 'id_only') return idOnlyLiveActivity;
    const topic = suffixedTopic(device, app, LIVE_ACTIVITY_TOPIC_SUFFIX);
    if (!topic) return noTopic;
    const la = m.offlinePush!.apns!.liveActivity!;
    const fit = renderLiveActivityPayload(m, la);
    if (!fit.ok) return tooLarge('Live Activity payload', fit.bytes, LIVE_ACTIVITY_PAYLOAD_LIMIT);
    const priority = m.offlinePush?.apns?.priority ?? (la.alert ? 10 : 5);
    const request = { ...common, ...apnsCommon, topic, pushType: 'liveactivity' as const };
    return {
      kind: 'apns',
      bytes: fit.bytes + device.token.length + REQUEST_OVERHEAD_BYTES,
      request: { ...request, priority, payload: fit.value },
    };
  }
  const content = callContent(m, settings, platformOf(device), {
    locale: device.locale,
    texts: app?.texts,
    appPrivacy: app?.privacy,
  });
  if (platformOf(device) === 'fcm') {
    const remaining = Math.max(0, (base.expiresAt.getTime() - base.now.getTime()) / 1000);
    const web = device.platform === 'web' || device.platform === 'desktop';
    const fit = renderFcmCall(m, content, remaining, web);
    if (!fit.ok) return tooLarge('FCM call message', fit.bytes, FCM_CALL_LIMIT);
    const bytes = fit.bytes + device.token.length + REQUEST_OVERHEAD_BYTES;
    return { kind: 'fcm', bytes, request: { ...common, message: fit.value } };
  }
  const topic = suffixedTopic(device, app, VOIP_TOPIC_SUFFIX);
  if (!topic) return noTopic;
  const fit = renderVoipPayload(m, content);
  if (!fit.ok) return tooLarge('VoIP payload', fit.bytes, VOIP_PAYLOAD_LIMIT);
  const request = {
    ...common,
    ...apnsCommon,
    topic,
    pushType: 'voip' as const,
    priority: 10 as const,
  };
  return {
    kind: 'apns',
    bytes: fit.bytes + device.token.length + REQUEST_OVERHEAD_BYTES,
    request: { ...request, payload: fit.value },
  };
}
