import type {
  DevicePresence,
  PresenceStatus,
  PushSettings,
  RegisteredDevice,
} from '@app/contracts';
import type { DeviceVerdict, SuppressionRule } from '@app/routing-rules';

/** What a device's sentence is built from: routing's verdict and the facts behind it. */
export interface SentenceFacts {
  verdict: DeviceVerdict;
  /** The device's presence record (undefined: presence knows nothing of it). */
  presence: DevicePresence | undefined;
  /** The status routing uses (`effectiveStatus`: unknown = push_online, stale = offline). */
  status: PresenceStatus;
  settings: PushSettings;
  /** The conversation the next message is imagined in (`c2c:<peer>`, `group:<id>`). */
  conversation: string;
  /** Devices of the user online elsewhere (for `online_elsewhere`). */
  onlineElsewhere: string[];
  offlineAfterDays: number;
}

/** `22:00 for 8 h (Europe/Paris)`. */
export function describeDnd(dnd: NonNullable<PushSettings['dnd']>): string {
  const h = Math.floor(dnd.startSecondOfDay / 3600);
  const m = Math.floor((dnd.startSecondOfDay % 3600) / 60);
  const hours = dnd.durationSeconds / 3600;
  const length = Number.isInteger(hours)
    ? `${hours} h`
    : `${Math.round(dnd.durationSeconds / 60)} min`;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(h)}:${pad(m)} for ${length} (${dnd.timeZone})`;
}

/** `online, app in the foreground, last seen 2026-11-29T10:00:00.000Z`. */
export function describePresence(p: DevicePresence | undefined, status: PresenceStatus): string {
  if (!p) return 'presence unknown (counted as push_online)';
  const parts: string[] = [
    status === p.status ? p.status : `${status} (presence says ${p.status})`,
  ];
  if (p.app) parts.push(`app in the ${p.app}`);
  if (p.offlineReason) parts.push(p.offlineReason === 'logged_out' ? 'logged out' : 'not seen');
  parts.push(`last seen ${p.lastSeenAt}`);
  return parts.join(', ');
}

function why(rule: SuppressionRule, f: SentenceFacts): string {
  switch (rule) {
    case 'push_flag':
      return 'the message asks for online delivery only (offlinePush.pushFlag 1)';
    case 'no_device':
      return 'the user has no registered device';
    case 'push_disabled':
      return 'the user turned push off (settings.pushEnabled is false)';
    case 'offline':
      return f.presence?.offlineReason === 'logged_out' || f.presence?.status === 'offline'
        ? `the device is offline (${describePresence(f.presence, f.status)})`
        : `the device is offline: not seen for more than ${f.offlineAfterDays} days (${describePresence(f.presence, f.status)})`;
    case 'online':
      return `the device is online (${describePresence(f.presence, f.status)}): the IM connection delivers the message`;
    case 'online_elsewhere':
      return `another device of the user is online (${f.onlineElsewhere.join(', ')}) and the app suppresses pushes then`;
    case 'receive_not_notify':
      return `the conversation ${f.conversation} is set to receive without notification`;
    case 'receive_except_at':
      return `the conversation ${f.conversation} notifies only when the user is mentioned`;
    case 'dnd':
      return `the do-not-disturb window ${describeDnd(f.settings.dnd!)} is on`;
    case 'snooze':
      return `notifications are snoozed until ${f.settings.snoozeUntil}`;
    case 'not_a_call':
      return 'the device is registered for VoIP pushes, which carry calls only (offlinePush.apns.pushType voip)';
    case 'call_needs_voip':
      return 'the message is a call, which goes to VoIP-registered APNs devices only';
    case 'live_activity_token':
      return 'the device is a Live Activity push token, which gets its activity updates only';
    case 'not_live_activity_token':
      return 'the message updates a Live Activity, which goes to live-activity tokens only';
    case 'no_live_activity':
      return 'the message updates a Live Activity and the user has no live-activity token for it';
  }
}

const deviceName = (d: RegisteredDevice): string =>
  `${d.deviceId} (${d.provider}${d.environment ? `, ${d.environment}` : ''})`;

/**
 * One sentence for support: would the next message be pushed to this device, and if not, which
 * of routing's rules stops it and why. `rule` is routing's own code (the `code` of the outcome).
 */
export function deviceSentence(f: SentenceFacts): string {
  const v = f.verdict;
  if (!v.device) return `Nothing would be pushed: ${why(v.push ? 'no_device' : v.rule, f)}.`;
  const name = deviceName(v.device);
  if (v.push) {
    return `${name}: the next message would be pushed (${describePresence(f.presence, f.status)}).`;
  }
  return `${name}: the next message would not be pushed (${v.rule}): ${why(v.rule, f)}.`;
}

/**
 * A device token shown to support: its first 6 and last 4 characters, never the whole token (a
 * token of 12 characters or fewer shows only its length).
 */
export function tokenPreview(token: string): string {
  if (token.length <= 12) return `…(${token.length} chars)`;
  return `${token.slice(0, 6)}…${token.slice(-4)}`;
}
