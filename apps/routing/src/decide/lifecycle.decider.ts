import {
  TOPICS,
  type PresenceUserState,
  type RecallIntent,
  type RegisteredDevice,
  type TokenUserDevices,
} from '@app/contracts';
import type { AppConfig } from '@app/config';
import { outbound, type OutboundRecord } from '@app/kafka';
import type { RecordContext } from '@app/observability';
import { badgeBaseline } from '../badge/badge.counter';
import {
  isLatestOfConversation,
  lowerBadge,
  takeRecalled,
  type PushEntry,
} from '../badge/push-memory';
import {
  apnsBackgroundPayload,
  apnsRecallPayload,
  collapseIdFor,
  fcmDataMessage,
  fcmRecallNotification,
  fcmWebRecall,
  recalledText,
} from '../rendering/lifecycle.renderer';
import { effectivePrivacy } from '../rendering/notification-content';
import type { UserBadges } from './decide.state';
import { jobIdFor, messageDigest } from './job-id.util';
import {
  buildLifecycleRequest,
  type ApnsLifecycle,
  type LifecycleBase,
} from './lifecycle-request.builder';

/** How long a recall or read-sync push may wait for its device (apns-expiration, FCM ttl). */
export const LIFECYCLE_TTL_SECONDS = 86400;

/** One user's state while a recall or a read of theirs is decided (badges: the batch's copy). */
export interface LifecycleScope {
  appId: string;
  userId: string;
  badges: UserBadges;
  tokens: TokenUserDevices | undefined;
  presence: PresenceUserState | undefined;
  app: AppConfig | undefined;
  now: Date;
  context: RecordContext | undefined;
}

export interface LifecycleOutput {
  records: OutboundRecord[];
  bytes: number;
  /** Whether the user's badge state changed (a changelog record is due). */
  changed: boolean;
}

/**
 * The device's count lowered by `by` from its baseline (presence report or routing's count). When
 * the baseline is a report the device made at or after `at` (the read's `readAt`, the recall's
 * `recalledAt`), the report already reflects the read or recall: nothing is subtracted.
 */
export function lowered(s: LifecycleScope, deviceId: string, by: number, at?: string): number {
  const prev = s.badges.devices.get(deviceId);
  const presence = s.presence?.devices.find((d) => d.deviceId === deviceId);
  const baseline = badgeBaseline(prev, presence);
  const fromReport =
    presence !== undefined && (!prev || Date.parse(presence.since) > Date.parse(prev.at));
  const reflected = fromReport && at !== undefined && Date.parse(presence.since) >= Date.parse(at);
  const next = lowerBadge({ count: baseline, at: '' }, reflected ? 0 : by, s.now.toISOString());
  s.badges.devices.set(deviceId, next);
  return next.count;
}

/** A lifecycle push to one device as an output record (nothing for a device it cannot reach). */
export function lifecycleRecord(
  s: LifecycleScope,
  device: RegisteredDevice,
  base: Omit<LifecycleBase, 'appId' | 'userId' | 'now' | 'expiresAt'>,
  apns: () => ApnsLifecycle,
  fcm: () => Record<string, unknown>,
): { record: OutboundRecord; bytes: number } | undefined {
  const full: LifecycleBase = {
    ...base,
    appId: s.appId,
    userId: s.userId,
    now: s.now,
    expiresAt: new Date(s.now.getTime() + LIFECYCLE_TTL_SECONDS * 1000),
  };
  const built = buildLifecycleRequest(device, s.app, full, apns, fcm);
  if (!built) return undefined;
  const topic = built.kind === 'apns' ? TOPICS.apnsRequest : TOPICS.fcmRequest;
  return { record: outbound(topic, built.request, { context: s.context }), bytes: built.bytes };
}

/** The recall job of a device: `\n` keeps it apart from any message id (ids refuse it). */
export const recallJobKey = (messageId: string): string => `recall\n${messageId}`;

/**
 * Whether a newer remembered push on `deviceId` has the entry's own collapse id: the notification
 * under that id shows the newer message, which a replacement would hide.
 */
export function collapsedByNewer(
  pushes: readonly PushEntry[],
  entry: PushEntry,
  deviceId: string,
): boolean {
  if (entry.k === undefined) return false;
  const newer = pushes.slice(pushes.indexOf(entry) + 1);
  return newer.some((e) => e.k === entry.k && Object.hasOwn(e.v, deviceId));
}

/** Whether the message's FCM form was data-only (recorded, else the app's settings now). */
function wasDataOnly(s: LifecycleScope, entry: PushEntry): boolean {
  if (entry.o === 1) return true;
  const idOnly = effectivePrivacy(s.tokens?.settings, s.app?.privacy) === 'id_only';
  return idOnly || s.app?.fcm?.dataOnly === true;
}

/** The recall's APNs push: the replacement alert, or a background push where none may replace. */
function recallApns(
  ctx: RecallContext,
  device: RegisteredDevice,
  badge: number | null,
  text: string,
): ApnsLifecycle {
  const { entry, messageId } = ctx;
  const background =
    ctx.silent ||
    device.pushType === 'background' ||
    collapsedByNewer(ctx.before, entry, device.deviceId);
  if (background) {
    const fields = { recalled: [messageId], conversation: entry.c };
    return {
      payload: apnsBackgroundPayload('recall', badge, fields),
      background,
      collapseId: null,
    };
  }
  return {
    payload: apnsRecallPayload(text, entry.c, badge, messageId),
    background: false,
    collapseId: entry.k ?? collapseIdFor(messageId),
  };
}

/** The recall's FCM message: Android or web, a replacement or a data message. */
function recallFcm(
  ctx: RecallContext,
  device: RegisteredDevice,
  badge: number | null,
  text: string,
): Record<string, unknown> {
  const { entry, messageId } = ctx;
  const replace =
    !ctx.silent && !ctx.dataOnly && isLatestOfConversation(ctx.before, entry, device.deviceId);
  if (device.platform === 'web' || device.platform === 'desktop') {
    const icon = ctx.webIcon;
    return fcmWebRecall(text, entry.c, messageId, LIFECYCLE_TTL_SECONDS, { replace, icon });
  }
  if (replace) return fcmRecallNotification(text, entry.c, badge, messageId, LIFECYCLE_TTL_SECONDS);
  const data = { type: 'recall', messageId, conversation: entry.c };
  return fcmDataMessage(data, badge, LIFECYCLE_TTL_SECONDS, 'high');
}

/** What every device's recall push of one message is built from. */
interface RecallContext {
  messageId: string;
  entry: PushEntry;
  /** The memory before the entry was taken (what came after it). */
  before: readonly PushEntry[];
  silent: boolean;
  dataOnly: boolean;
  webIcon: string | undefined;
}

/**
 * A recall for one user: every device that got the message gets a replacement (same
 * apns-collapse-id; on FCM the same tag when it is still the conversation's newest notification
 * there, else a data message; web devices the `webpush` form) or, with the app's `recall.mode:
 * silent`, a background push. Background push instead of an alert too for `background` APNs
 * devices and when a newer push shares the message's own collapse id; a data message for a
 * data-only or id-only FCM push. Each device's badge drops by what the message added (no badge
 * sent when it added nothing: `badgeMode: 1` left the icon alone). The message's entry is taken
 * out of the memory, so a repeated recall finds nothing. (Remembering the digest against a late
 * message intent is the caller's.)
 */
export function decideRecall(intent: RecallIntent, s: LifecycleScope): LifecycleOutput {
  const { messageId, recalledAt } = intent.recall;
  const out: LifecycleOutput = { records: [], bytes: 0, changed: false };
  const taken = takeRecalled(s.badges.pushes, messageDigest(messageId));
  if (!taken) return out;
  const ctx: RecallContext = {
    messageId,
    entry: taken.entry,
    before: s.badges.pushes,
    silent: s.app?.recall?.mode === 'silent',
    dataOnly: wasDataOnly(s, taken.entry),
    webIcon: s.app?.web?.icon,
  };
  s.badges.pushes = taken.rest;
  out.changed = true;
  for (const [deviceId, inc] of Object.entries(taken.entry.v)) {
    const device = s.tokens?.devices.find((d) => d.deviceId === deviceId);
    if (!device) continue;
    const count = lowered(s, deviceId, inc, recalledAt);
    const web = device.platform === 'web' || device.platform === 'desktop';
    // No badge where the message added nothing (`badgeMode: 1`); a read message's increments are
    // 0 too, but its badge was lowered by the read: the replacement shows the count again (the
    // device may have missed the read sync's background push).
    const badge = (inc === 0 && taken.entry.r === undefined) || web ? null : count;
    const text = recalledText(s.app?.texts?.recalled, device.locale);
    const jobId = jobIdFor(s.appId, recallJobKey(messageId), s.userId, deviceId);
    const r = lifecycleRecord(
      s,
      device,
      { jobId, messageId, sentAt: recalledAt },
      () => recallApns(ctx, device, badge, text),
      () => recallFcm(ctx, device, badge, text),
    );
    if (!r) continue;
    out.records.push(r.record);
    out.bytes += r.bytes;
  }
  return out;
}
