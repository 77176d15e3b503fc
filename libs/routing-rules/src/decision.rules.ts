import type {
  DevicePresence,
  ImMessageSent,
  PresenceUserState,
  RegisteredDevice,
  TokenUserDevices,
} from '@app/contracts';
import { conversationKey } from './conversation-key';
import { inDailyWindow } from './dnd-window.util';
import { kindRule, messageKind, SILENT_RULES, type KindRule } from './push-kind';

/** Why a device stays quiet; it is the `code` of the device's `suppressed` outcome. */
export type SuppressionRule =
  | 'push_flag'
  | 'no_device'
  | 'push_disabled'
  | 'offline'
  | 'online'
  | 'online_elsewhere'
  | 'receive_not_notify'
  | 'receive_except_at'
  | 'dnd'
  | 'snooze'
  | KindRule
  | 'no_live_activity';

export interface AppPolicy {
  suppressWhenOnlineElsewhere: boolean;
  offlineAfterDays: number;
}

export interface DecisionInput {
  message: ImMessageSent;
  userId: string;
  tokens: TokenUserDevices | undefined;
  presence: PresenceUserState | undefined;
  policy: AppPolicy;
  now: Date;
  /**
   * A push task's `includeOnline`: an online device (and, by app policy, a user online elsewhere)
   * gets it too; every other rule holds.
   */
  includeOnline?: boolean;
}

/** One verdict per registered device, or one without a device when the user has none. */
export type DeviceVerdict =
  | { push: true; device: RegisteredDevice; presence: DevicePresence | undefined }
  | { push: false; device: RegisteredDevice | null; rule: SuppressionRule };

const DAY_MS = 86_400_000;

/**
 * The effective status of a device: unknown presence counts as `push_online` (pushes never depend
 * on presence being wired up); a device not seen for `offlineAfterDays` is `offline` even if
 * presence has not said so yet.
 */
export function effectiveStatus(
  p: DevicePresence | undefined,
  policy: AppPolicy,
  now: Date,
): DevicePresence['status'] {
  if (!p) return 'push_online';
  if (now.getTime() - Date.parse(p.lastSeenAt) > policy.offlineAfterDays * DAY_MS) return 'offline';
  return p.status;
}

/** Rule 4 (receive options, DND, snooze), which `bypassMute` skips. Undefined: no objection. */
function muteRule(input: DecisionInput, settings: TokenUserDevices['settings']) {
  const m = input.message;
  const option = settings.conversations[conversationKey(m)] ?? 'receive';
  if (option === 'receive_not_notify') return 'receive_not_notify';
  if (option === 'receive_except_at') {
    const mentioned = m.mentions?.all === true || m.mentions?.userIds?.includes(input.userId);
    if (!mentioned) return 'receive_except_at';
  }
  if (settings.dnd && inDailyWindow(input.now, settings.dnd)) return 'dnd';
  if (settings.snoozeUntil && Date.parse(settings.snoozeUntil) > input.now.getTime()) {
    return 'snooze';
  }
  return undefined;
}

/**
 * The offline decision (DESIGN.md "Decision rules"), per device, first matching rule wins:
 * push_flag → no device / push disabled / offline → online (or, by app policy, online on any
 * device) → receive option, DND, snooze (unless bypassMute) → push. Before them, the device kind
 * (`kindRule`: calls to VoIP devices, activity updates to activity tokens). A Live Activity update
 * is state, not an alert: presence and the mute rules do not apply to it.
 */
export function decideDevices(input: DecisionInput): DeviceVerdict[] {
  const { message, tokens, presence, policy, now } = input;
  const devices = tokens?.devices ?? [];
  const pushFlag = message.offlinePush?.pushFlag === 1;
  if (devices.length === 0) {
    return [{ push: false, device: null, rule: pushFlag ? 'push_flag' : 'no_device' }];
  }
  const kind = messageKind(message);
  const presenceOf = new Map((presence?.devices ?? []).map((d) => [d.deviceId, d]));
  // Any device counts here, also one without a push token (a desktop or web session).
  const onlineSomewhere = (presence?.devices ?? []).some(
    (d) => effectiveStatus(d, policy, now) === 'online',
  );
  const muted =
    message.offlinePush?.bypassMute === true ? undefined : muteRule(input, tokens!.settings);
  const verdicts = devices.map((device): DeviceVerdict => {
    const p = presenceOf.get(device.deviceId);
    const quiet = (rule: SuppressionRule): DeviceVerdict => ({ push: false, device, rule });
    const notTarget = kindRule(message, kind, device);
    if (notTarget) return quiet(notTarget);
    if (pushFlag) return quiet('push_flag');
    if (!tokens!.settings.pushEnabled) return quiet('push_disabled');
    if (kind === 'live_activity') return { push: true, device, presence: p };
    const status = effectiveStatus(p, policy, now);
    if (status === 'offline') return quiet('offline');
    if (status === 'online' && !input.includeOnline) return quiet('online');
    if (policy.suppressWhenOnlineElsewhere && onlineSomewhere && !input.includeOnline) {
      return quiet('online_elsewhere');
    }
    if (muted) return quiet(muted);
    return { push: true, device, presence: p };
  });
  // Only devices this kind of message never goes to (silently): one outcome says why nothing rang.
  if (verdicts.every((v) => !v.push && SILENT_RULES.has(v.rule))) {
    const rule = pushFlag
      ? 'push_flag'
      : kind === 'live_activity'
        ? 'no_live_activity'
        : 'no_device';
    verdicts.push({ push: false, device: null, rule });
  }
  return verdicts;
}
