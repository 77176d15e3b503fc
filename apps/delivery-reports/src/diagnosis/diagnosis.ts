import {
  ImMessageSentSchema,
  type DevicePresence,
  type ImMessageSent,
  type PresenceUserState,
  type TokenUserDevices,
} from '@app/contracts';
import {
  decideDevices,
  effectiveStatus,
  inDailyWindow,
  type AppPolicy,
  type DeviceVerdict,
} from '@app/routing-rules';
import { deviceSentence, describeDnd, tokenPreview } from './diagnosis.sentences';

/** Routing's policy when the app sets none (the same default as routing's decide stage). */
export const DEFAULT_POLICY: AppPolicy = {
  suppressWhenOnlineElsewhere: false,
  offlineAfterDays: 7,
};

/** The peer of the imagined next message when support names no conversation. */
export const ANY_PEER = 'any-other-peer';

/** The stored outcome fields the diagnosis shows (the API's outcome items). */
export interface OutcomeLike {
  jobId: string;
  messageId: string;
  deviceId: string | null;
  provider: string | null;
  status: string;
  code: string | null;
  reason: string | null;
  at: string;
}

export interface DiagnosisInput {
  appId: string;
  userId: string;
  /** The user's `token.user-devices.v1` value; null after a tombstone, undefined if none. */
  tokens: TokenUserDevices | null | undefined;
  presence: PresenceUserState | null | undefined;
  policy: AppPolicy;
  now: Date;
  /** `c2c:<peer>` or `group:<id>`; undefined: a conversation without an option of its own. */
  conversation: string | undefined;
  lastOutcomes: OutcomeLike[];
}

/** The message routing would decide on: a plain text in the conversation, nobody mentioned. */
export function probeMessage(
  appId: string,
  userId: string,
  conversation: string | undefined,
  now: Date,
): ImMessageSent {
  const [kind, id] = conversation ? splitConversation(conversation) : ['c2c', ANY_PEER];
  return ImMessageSentSchema.parse({
    appId,
    messageId: 'diagnosis-probe',
    sentAt: now.toISOString(),
    conversation: { type: kind, id },
    sender: { userId: kind === 'c2c' ? id : ANY_PEER },
    recipients: [userId],
    elements: [{ type: 'text', text: 'diagnosis' }],
  });
}

function splitConversation(c: string): ['c2c' | 'group', string] {
  const at = c.indexOf(':');
  return [c.slice(0, at) === 'group' ? 'group' : 'c2c', c.slice(at + 1)];
}

const presenceView = (p: DevicePresence, policy: AppPolicy, now: Date) => ({
  deviceId: p.deviceId,
  platform: p.platform,
  status: p.status,
  /** What routing uses: a device not seen for offlineAfterDays is offline. */
  routingStatus: effectiveStatus(p, policy, now),
  since: p.since,
  lastSeenAt: p.lastSeenAt,
  app: p.app ?? null,
  offlineReason: p.offlineReason ?? null,
});

function settingsView(tokens: TokenUserDevices | null | undefined, now: Date) {
  if (!tokens) return null;
  const s = tokens.settings;
  const snoozed = !!s.snoozeUntil && Date.parse(s.snoozeUntil) > now.getTime();
  return {
    pushEnabled: s.pushEnabled,
    dnd: s.dnd
      ? { ...s.dnd, description: describeDnd(s.dnd), activeNow: inDailyWindow(now, s.dnd) }
      : null,
    snoozeUntil: s.snoozeUntil ?? null,
    snoozedNow: snoozed,
    /** Conversations with an option other than `receive` (they mute pushes, or all but mentions). */
    conversations: s.conversations,
  };
}

/**
 * Devices whose last outcome was `invalid_token` and that are no longer registered (the registry
 * removes such a token): they get nothing until the app registers a new one.
 */
function invalidTokenNotes(input: DiagnosisInput): string[] {
  const registered = new Set(input.tokens?.devices.map((d) => d.deviceId));
  const seen = new Set<string>();
  const notes: string[] = [];
  for (const o of input.lastOutcomes) {
    if (!o.deviceId || seen.has(o.deviceId)) continue;
    seen.add(o.deviceId);
    if (o.status === 'invalid_token' && !registered.has(o.deviceId)) {
      notes.push(
        `${o.deviceId} (${o.provider ?? 'unknown provider'}): its last push (message ${o.messageId}, ${o.at}) was refused as an invalid token (${o.code ?? 'no code'}); the token was removed, so nothing is pushed to it until the app registers a new token.`,
      );
    }
  }
  return notes;
}

function deviceView(input: DiagnosisInput, v: DeviceVerdict, onlineElsewhere: string[]) {
  const { policy, now } = input;
  const device = v.device!;
  const p = input.presence?.devices.find((d) => d.deviceId === device.deviceId);
  const status = effectiveStatus(p, policy, now);
  const sentence = deviceSentence({
    verdict: v,
    presence: p,
    status,
    settings: input.tokens!.settings,
    conversation: conversationName(input.conversation),
    onlineElsewhere: onlineElsewhere.filter((id) => id !== device.deviceId),
    offlineAfterDays: policy.offlineAfterDays,
  });
  return {
    deviceId: device.deviceId,
    platform: device.platform,
    provider: device.provider,
    environment: device.environment ?? null,
    tokenPreview: tokenPreview(device.token),
    registeredAt: device.updatedAt,
    presence: p ? presenceView(p, policy, now) : null,
    nextMessage: { push: v.push, rule: v.push ? null : v.rule, sentence },
  };
}

const conversationName = (c: string | undefined): string =>
  c ?? 'any conversation without an option of its own';

/**
 * The support answer for one user: devices (token previews), presence as routing sees it, the
 * settings that mute, the last outcomes, and per device whether the next message would be pushed,
 * decided by routing's own rules (`decideDevices`) on the same inputs routing reads.
 */
export function diagnose(input: DiagnosisInput) {
  const { appId, userId, now, policy } = input;
  const verdicts = decideDevices({
    message: probeMessage(appId, userId, input.conversation, now),
    userId,
    tokens: input.tokens ?? undefined,
    presence: input.presence ?? undefined,
    policy,
    now,
  });
  const presenceDevices = input.presence?.devices ?? [];
  const online = presenceDevices
    .filter((d) => effectiveStatus(d, policy, now) === 'online')
    .map((d) => d.deviceId);
  const devices = verdicts.filter((v) => v.device).map((v) => deviceView(input, v, online));
  const sentences = devices.length
    ? devices.map((d) => d.nextMessage.sentence)
    : [noDeviceSentence(input)];
  const notes = invalidTokenNotes(input);
  return {
    appId,
    userId,
    at: now.toISOString(),
    knownUser: !!input.tokens || !!input.presence || input.lastOutcomes.length > 0,
    conversation: conversationName(input.conversation),
    summary: [...sentences, ...notes].join(' '),
    devices,
    presence: input.presence
      ? {
          updatedAt: input.presence.updatedAt,
          devices: presenceDevices.map((p) => presenceView(p, policy, now)),
        }
      : null,
    settings: settingsView(input.tokens, now),
    policy,
    notes,
    lastOutcomes: input.lastOutcomes,
  };
}

export type Diagnosis = ReturnType<typeof diagnose>;

function noDeviceSentence(input: DiagnosisInput): string {
  if (!input.tokens && !input.presence && input.lastOutcomes.length === 0) {
    return `Nothing would be pushed (no_device): the platform knows nothing of user ${input.userId} (no registration, no presence, no outcome kept).`;
  }
  return 'Nothing would be pushed (no_device): the user has no registered device.';
}
