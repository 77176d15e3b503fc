import type { ImMessageSent, RegisteredDevice } from '@app/contracts';

/**
 * What a message asks to push (Tencent's `iOSPushType` model): a chat notification, a call
 * (`offlinePush.apns.pushType: "voip"`), or a Live Activity update (`offlinePush.apns.liveActivity`).
 */
export type MessageKind = 'chat' | 'call' | 'live_activity';

export function messageKind(m: ImMessageSent): MessageKind {
  const apns = m.offlinePush?.apns;
  if (apns?.liveActivity) return 'live_activity';
  if (apns?.pushType === 'voip') return 'call';
  return 'chat';
}

/** Device-kind rules: why a device is not a target of this kind of message. */
export type KindRule =
  'not_a_call' | 'call_needs_voip' | 'live_activity_token' | 'not_live_activity_token';

/**
 * Rules whose devices get no outcome: a live-activity token is a target of its activity's updates
 * only, and every other message would otherwise write an outcome per activity token (and every
 * activity update one per phone). They are still verdicts, so a diagnosis can name them.
 */
export const SILENT_RULES: ReadonlySet<string> = new Set<KindRule>([
  'live_activity_token',
  'not_live_activity_token',
]);

const apnsType = (d: RegisteredDevice) => (d.provider === 'apns' ? (d.pushType ?? 'alert') : null);

/**
 * Which devices a kind of message goes to, or the rule that keeps one out:
 * - a VoIP-registered APNs device gets calls only (iOS 13+ ends an app that receives a VoIP push
 *   without reporting a CallKit call), and a call goes to VoIP devices only among APNs devices;
 *   FCM devices get chat and calls (a call becomes a data message);
 * - a live-activity token gets its activity's updates only (those named in `activityIds`, or all
 *   of the user's when absent), and an update goes to nothing else.
 */
export function kindRule(
  m: ImMessageSent,
  kind: MessageKind,
  device: RegisteredDevice,
): KindRule | undefined {
  const type = apnsType(device);
  if (kind === 'live_activity') {
    const ids = m.offlinePush?.apns?.liveActivity?.activityIds;
    const named = !ids || ids.includes(device.deviceId);
    return type === 'liveactivity' && named ? undefined : 'not_live_activity_token';
  }
  if (type === 'liveactivity') return 'live_activity_token';
  if (kind === 'call') return type === null || type === 'voip' ? undefined : 'call_needs_voip';
  return type === 'voip' ? 'not_a_call' : undefined;
}
