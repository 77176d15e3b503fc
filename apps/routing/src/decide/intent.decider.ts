import {
  MAX_SENT_LAG_SECONDS,
  TOPICS,
  isRecallIntent,
  type DevicePresence,
  type PushIntent,
  type PushIntentEvent,
  type RecallIntent,
  type PushOutcome,
  type RegisteredDevice,
  type TokenUserDevices,
  parseUserKey,
  userKey,
} from '@app/contracts';
import type { AppConfig } from '@app/config';
import { outbound, type OutboundRecord } from '@app/kafka';
import type { RecordContext } from '@app/observability';
import { badgeBaseline, nextBadge } from '../badge/badge.counter';
import { remembered, rememberPush, type MemoryLimits } from '../badge/push-memory';
import { decideRecall } from './lifecycle.decider';
import {
  conversationKey,
  decideDevices,
  messageKind,
  SILENT_RULES,
  type AppPolicy,
  type MessageKind,
  type SuppressionRule,
} from '@app/routing-rules';
import { callExpiresAt } from '../rendering/call.renderer';
import { effectivePrivacy } from '../rendering/notification-content';
import { buildDeviceRequest, platformOf } from './device-request.builder';
import { buildKindRequest } from './kind-request.builder';
import {
  badgeRecord,
  cloneBadges,
  emptyBadges,
  type DecideState,
  type UserBadges,
} from './decide.state';
import { jobIdFor, messageDigest } from './job-id.util';

export interface DecideOptions {
  now: Date;
  /** How many recent pushed messages per user are remembered to drop repeated intents. */
  dedupeWindow: number;
  /**
   * Pushed messages younger than this are remembered too, beyond `dedupeWindow` (up to
   * MAX_RECENT): a fan-out that crashed repeats its uncommitted intents after a restart, and a
   * busy user may get more than `dedupeWindow` other messages in between.
   */
  dedupeSeconds?: number;
  app: (appId: string) => AppConfig | undefined;
  /**
   * Stop taking intents once the output is about this large (bytes of JSON): the rest of the batch
   * is handled in the next transaction. This bounds a transaction's size and memory; fitting the
   * topics' size limits is the commit's job (it splits its produce calls by bytes).
   */
  maxOutputBytes?: number;
  /**
   * The per-user memory of pushed chat messages for recall and read sync (ROUTING_PUSH_MEMORY,
   * ROUTING_PUSH_MEMORY_SECONDS); none when left out.
   */
  memory?: MemoryLimits;
}

/**
 * A value with the context of the record it came from: what it produces carries that correlation,
 * so a push can be followed from the message to the provider (no context is minted per record).
 * A consumed record is one.
 */
export interface Caused<T> {
  value: T;
  context?: RecordContext;
}

export interface DecideTally {
  apns: number;
  fcm: number;
  suppressed: number;
  rejected: number;
  expired: number;
  duplicates: number;
  /** Recall intents that replaced or removed a notification on at least one device. */
  recalls: number;
  /** Recall intents that found nothing remembered (the user was not pushed the message). */
  recallsEmpty: number;
}

export interface DecideResult {
  records: OutboundRecord[];
  /** Badge state to apply in memory once the transaction commits. */
  badges: Map<string, UserBadges>;
  tally: DecideTally;
  /** How many of the intents (from the first) were handled; the rest wait for the next batch. */
  handled: number;
}

/**
 * A push task's user, decided like a message intent (never on a topic: built by the task decider).
 * `badge: none` shows and changes no badge (APNs without `badge`, FCM without
 * `notification_count`); `includeOnline` skips the online rules.
 */
export type TaskPushIntent = PushIntent & {
  task?: { badge: 'none' | 'increment'; includeOnline: boolean };
};

/** The contract's cap on remembered messages per user (`recent` in routing.badge-state.v1). */
export const MAX_RECENT = 256;

/**
 * Remembered messages are `<digest>` or `<digest>@<unix seconds, base 36>` (the time they were
 * pushed; entries written before times were kept have none and are kept by count only).
 */
function remembers(recent: readonly string[], digest: string): boolean {
  for (const e of recent) {
    if (e.startsWith(digest) && (e.length === digest.length || e[digest.length] === '@')) {
      return true;
    }
  }
  return false;
}

/** Keeps the newest `count` entries and any younger than `seconds`, at most MAX_RECENT. */
export function trimRecent(
  recent: string[],
  count: number,
  seconds: number,
  nowSeconds: number,
): void {
  const keepFrom = recent.length - count;
  let write = 0;
  for (let i = 0; i < recent.length; i++) {
    const at = recent[i].lastIndexOf('@');
    const age = at < 0 ? Infinity : nowSeconds - parseInt(recent[i].slice(at + 1), 36);
    if (i >= keepFrom || age <= seconds) recent[write++] = recent[i];
  }
  recent.length = write;
  if (recent.length > MAX_RECENT) recent.splice(0, recent.length - MAX_RECENT);
}

/** Seconds from a message's `sentAt` to its push at `t` (0 for a clock ahead; capped). */
const sentLag = (sentAt: string, t: number): number =>
  Math.min(MAX_SENT_LAG_SECONDS, Math.max(0, t - Math.floor(Date.parse(sentAt) / 1000)));

/** JSON size estimates of an outcome and a badge record (their fields are bounded). */
const OUTCOME_BYTES = 600;
const BADGE_RECORD_BYTES = 1200;

const DEFAULT_POLICY: AppPolicy = { suppressWhenOnlineElsewhere: false, offlineAfterDays: 7 };

const RULE_REASONS: Record<SuppressionRule, string> = {
  push_flag: 'offlinePush.pushFlag is 1 (online only)',
  no_device: 'the user has no registered device',
  push_disabled: 'the user turned push off (settings.pushEnabled)',
  offline: 'the device is offline (logged out or not seen for offlineAfterDays)',
  online: 'the device is online: the IM connection delivers the message',
  online_elsewhere: 'another device of the user is online (app policy suppressWhenOnlineElsewhere)',
  receive_not_notify: 'the conversation is set to receive without notification',
  receive_except_at: 'the conversation notifies only on mentions and the user is not mentioned',
  dnd: "the user's daily do-not-disturb window is on",
  snooze: 'the user snoozed notifications',
  not_a_call:
    'the device is registered for VoIP pushes (pushType voip), which carry calls only; the message is not a call',
  call_needs_voip:
    'the message is a call (offlinePush.apns.pushType voip): among APNs devices it goes to VoIP-registered ones only',
  live_activity_token:
    'the device is a Live Activity push token: it gets its activity updates only',
  not_live_activity_token:
    'the message updates a Live Activity: it goes to live-activity tokens only (those in activityIds)',
  no_live_activity:
    'the message updates a Live Activity and the user has no live-activity token (of those in activityIds)',
};

/** What one intent needs while its devices are decided. */
interface IntentScope {
  intent: PushIntent;
  key: string;
  context: RecordContext | undefined;
  app: AppConfig | undefined;
  tokens: TokenUserDevices | undefined;
  badges: UserBadges;
  kind: MessageKind;
  expiresAt: Date;
  /** Per pushed device: the badge increment the push applied (for recall and read sync). */
  increments: Record<string, number>;
  /** A push task with `badge: none`: no badge shown or counted. */
  noBadge: boolean;
}

/** Whether the message's FCM form is data-only (the same rule as `renderFcmMessage`). */
const fcmDataOnly = (s: IntentScope): boolean =>
  s.intent.message.offlinePush?.android?.dataOnly === true ||
  s.app?.fcm?.dataOnly === true ||
  effectivePrivacy(s.tokens?.settings, s.app?.privacy) === 'id_only';

/** The output of one batch, built intent by intent. */
class BatchDecision {
  readonly records: OutboundRecord[] = [];
  readonly changed = new Map<string, UserBadges>();
  readonly tally: DecideTally = {
    apns: 0,
    fcm: 0,
    suppressed: 0,
    rejected: 0,
    expired: 0,
    duplicates: 0,
    recalls: 0,
    recallsEmpty: 0,
  };
  /** Estimated JSON bytes of `records` so far. */
  bytes = 0;
  private readonly contextOf = new Map<string, RecordContext | undefined>();

  constructor(
    private readonly state: DecideState,
    private readonly opts: DecideOptions,
    /** `<user key>\n<digest>` of the batch's recall intents: their messages are not pushed. */
    private readonly recalledInBatch: ReadonlySet<string> = new Set(),
  ) {}

  decide(intent: TaskPushIntent, context: RecordContext | undefined): void {
    const { appId, userId, message: m } = intent;
    const key = userKey({ appId, userId });
    const badges =
      this.changed.get(key) ?? cloneBadges(this.state.badges.get(key) ?? emptyBadges());
    const digest = messageDigest(m.messageId);
    // `recent` forgets sooner than the push memory: a message still remembered there was pushed.
    if (
      remembers(badges.recent, digest) ||
      remembered(badges.pushes, digest) ||
      this.recalledInBatch.has(`${key}\n${digest}`)
    ) {
      this.tally.duplicates++;
      return;
    }
    const app = this.opts.app(appId);
    const tokens = this.state.tokens.get(key);
    const kind = messageKind(m);
    const scope: IntentScope = {
      intent,
      key,
      context,
      app,
      tokens,
      badges,
      kind,
      // A call rings briefly: a late VoIP push would start a call that is long over.
      expiresAt:
        kind === 'call' ? callExpiresAt(m) : new Date(Date.parse(m.sentAt) + m.ttlSeconds * 1000),
      increments: {},
      noBadge: intent.task?.badge === 'none',
    };
    const verdicts = decideDevices({
      message: m,
      userId,
      tokens,
      presence: this.state.presence.get(key),
      policy: app?.policy ?? DEFAULT_POLICY,
      now: this.opts.now,
      includeOnline: intent.task?.includeOnline,
    });
    let pushed = false;
    for (const v of verdicts) {
      if (v.push) pushed = this.push(scope, v.device, v.presence) || pushed;
      else if (!SILENT_RULES.has(v.rule)) {
        this.outcome(scope, v.device, 'suppressed', v.rule, RULE_REASONS[v.rule]);
      }
    }
    if (pushed) this.remember(scope, digest);
  }

  /** The request for one device that should ring; false when rendering stopped it. */
  private push(s: IntentScope, device: RegisteredDevice, presence: DevicePresence | undefined) {
    const { now } = this.opts;
    const { appId, userId, message: m } = s.intent;
    if (m.ttlSeconds > 0 && s.expiresAt.getTime() <= now.getTime()) {
      const reason =
        s.kind === 'call'
          ? "the call's min(ttlSeconds, 30 s) passed before the decision"
          : 'ttlSeconds passed before the decision';
      this.outcome(s, device, 'expired', 'ttl_elapsed', reason);
      return false;
    }
    const base = {
      jobId: jobIdFor(appId, m.messageId, userId, device.deviceId),
      appId,
      userId,
      now,
      expiresAt: s.expiresAt,
    };
    // Calls and Live Activity updates never change a badge (they are still remembered for dedupe).
    const step =
      s.kind === 'chat' && !s.noBadge
        ? nextBadge(
            s.badges.devices.get(device.deviceId),
            presence,
            m.offlinePush,
            platformOf(device),
            now,
          )
        : undefined;
    const built =
      s.kind === 'chat'
        ? buildDeviceRequest(m, device, s.tokens?.settings, s.app, step?.shown ?? null, base)
        : buildKindRequest(s.kind, m, device, s.tokens?.settings, s.app, base);
    switch (built.kind) {
      case 'apns':
        this.records.push(outbound(TOPICS.apnsRequest, built.request, { context: s.context }));
        break;
      case 'fcm':
        this.records.push(outbound(TOPICS.fcmRequest, built.request, { context: s.context }));
        break;
      case 'suppressed':
      case 'rejected':
        this.outcome(s, device, built.kind, built.code, built.reason);
        return false;
    }
    this.tally[built.kind]++;
    this.bytes += built.bytes;
    if (step) {
      const before = s.badges.devices.get(device.deviceId);
      const increment = step.next.count - badgeBaseline(before, presence);
      s.increments[device.deviceId] = Math.min(999, Math.max(0, increment));
      s.badges.devices.set(device.deviceId, step.next);
    } else if (s.noBadge) {
      // Remembered with no increment: a revoke replaces the notification, the badge stays.
      s.increments[device.deviceId] = 0;
    }
    return true;
  }

  private outcome(
    s: IntentScope,
    device: RegisteredDevice | null,
    status: 'suppressed' | 'rejected' | 'expired',
    code: string,
    reason: string,
  ): void {
    const { appId, userId, message: m } = s.intent;
    const deviceId = device?.deviceId ?? null;
    const value: PushOutcome = {
      jobId: jobIdFor(appId, m.messageId, userId, deviceId),
      messageId: m.messageId,
      appId,
      userId,
      deviceId,
      provider: device?.provider ?? null,
      status,
      code,
      reason,
      attempts: 0,
      latencyMs: null,
      at: this.opts.now.toISOString(),
    };
    this.records.push(outbound(TOPICS.pushOutcome, value, { context: s.context }));
    this.tally[status]++;
    this.bytes += OUTCOME_BYTES;
  }

  /** A pushed message: the user's badges change (and remember the message, for dedupe). */
  private remember(s: IntentScope, digest: string): void {
    const { badges } = s;
    if (this.opts.dedupeWindow > 0 || (this.opts.dedupeSeconds ?? 0) > 0) {
      const nowSeconds = Math.floor(this.opts.now.getTime() / 1000);
      badges.recent.push(`${digest}@${nowSeconds.toString(36)}`);
      trimRecent(badges.recent, this.opts.dedupeWindow, this.opts.dedupeSeconds ?? 0, nowSeconds);
    }
    // Only chat pushes: calls and Live Activity updates show nothing a recall or read replaces.
    if (this.opts.memory && this.opts.memory.count > 0 && s.kind === 'chat') {
      const collapseId = s.intent.message.offlinePush?.apns?.collapseId;
      const t = Math.floor(this.opts.now.getTime() / 1000);
      const lag = sentLag(s.intent.message.sentAt, t);
      badges.pushes = rememberPush(
        badges.pushes,
        {
          d: digest,
          t,
          c: conversationKey(s.intent.message),
          v: s.increments,
          ...(collapseId ? { k: collapseId } : {}),
          ...(fcmDataOnly(s) ? { o: 1 as const } : {}),
          ...(lag > 0 ? { s: lag } : {}),
        },
        this.opts.memory,
      );
    }
    // Devices the user no longer has keep no count.
    const registered = new Set(s.tokens?.devices.map((d) => d.deviceId));
    for (const deviceId of badges.devices.keys()) {
      if (!registered.has(deviceId)) badges.devices.delete(deviceId);
    }
    badges.seq++;
    if (!this.changed.has(s.key)) this.bytes += BADGE_RECORD_BYTES;
    this.changed.set(s.key, badges);
    this.contextOf.set(s.key, s.context);
  }

  /**
   * A recall intent: the devices that were pushed the message get a replacement or a silent push
   * (lifecycle.decider). The recalled digest is remembered like a pushed message, so a message
   * intent that comes after its recall (a late or repeated fan-out) is dropped.
   */
  recall(intent: RecallIntent, context: RecordContext | undefined): void {
    const { appId, userId } = intent;
    const key = userKey({ appId, userId });
    const held = this.changed.get(key) ?? this.state.badges.get(key);
    // Never pushed and no device to push a late message to: nothing to replace or remember.
    if (!held && !this.state.tokens.get(key)?.devices.length) {
      this.tally.recallsEmpty++;
      return;
    }
    const badges = this.changed.get(key) ?? cloneBadges(held ?? emptyBadges());
    const out = decideRecall(intent, {
      appId,
      userId,
      badges,
      tokens: this.state.tokens.get(key),
      presence: this.state.presence.get(key),
      app: this.opts.app(appId),
      now: this.opts.now,
      context,
    });
    const digest = messageDigest(intent.recall.messageId);
    let changed = out.changed;
    if (!remembers(badges.recent, digest)) {
      const nowSeconds = Math.floor(this.opts.now.getTime() / 1000);
      badges.recent.push(`${digest}@${nowSeconds.toString(36)}`);
      const window = Math.max(1, this.opts.dedupeWindow);
      trimRecent(badges.recent, window, this.opts.dedupeSeconds ?? 0, nowSeconds);
      changed = true;
    }
    this.records.push(...out.records);
    this.bytes += out.bytes;
    if (out.records.length > 0) this.tally.recalls++;
    else this.tally.recallsEmpty++;
    if (!changed) return;
    badges.seq++;
    if (!this.changed.has(key)) this.bytes += BADGE_RECORD_BYTES;
    this.changed.set(key, badges);
    this.contextOf.set(key, context);
  }

  /** One changelog record per user whose badges changed, with their final state. */
  finish(): void {
    for (const [key, b] of this.changed) {
      const { appId, userId } = parseUserKey(key);
      const value = badgeRecord(appId, userId, b, this.opts.now);
      this.records.push(
        outbound(TOPICS.routingBadgeState, value, { context: this.contextOf.get(key) }),
      );
    }
  }
}

/** The batch's recalls as `<user key>\n<digest>`: a message intent before its recall is dropped. */
function recalledIn(intents: ReadonlyArray<Caused<PushIntentEvent>>): Set<string> {
  const out = new Set<string>();
  for (const { value } of intents) {
    if (!isRecallIntent(value)) continue;
    out.add(`${userKey(value)}\n${messageDigest(value.recall.messageId)}`);
  }
  return out;
}

/**
 * One batch of intents of one partition against the state: the requests and outcomes to produce,
 * the badge changelog records, and the badge state to apply after the commit. Pure over its
 * inputs (the state is read, never written here). Stops early once the output budget is used.
 * A message intent whose recall is in the same batch is not pushed (the recall stops the fan-out).
 */
export function decideIntents(
  intents: ReadonlyArray<Caused<PushIntentEvent | TaskPushIntent>>,
  state: DecideState,
  opts: DecideOptions,
): DecideResult {
  const batch = new BatchDecision(state, opts, recalledIn(intents));
  const budget = opts.maxOutputBytes ?? Number.POSITIVE_INFINITY;
  let handled = 0;
  for (const { value, context } of intents) {
    if (handled > 0 && batch.bytes >= budget) break;
    if (isRecallIntent(value)) batch.recall(value, context);
    else batch.decide(value, context);
    handled++;
  }
  batch.finish();
  return { records: batch.records, badges: batch.changed, tally: batch.tally, handled };
}
