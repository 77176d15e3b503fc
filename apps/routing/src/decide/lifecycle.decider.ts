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
import { isLatestOfConversation, lowerBadge, takeRecalled } from '../badge/push-memory';
import {
  apnsBackgroundPayload,
  apnsRecallPayload,
  collapseIdFor,
  fcmDataMessage,
  fcmRecallNotification,
  recalledText,
} from '../rendering/lifecycle.renderer';
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

/** The device's count lowered by `by` from its baseline (presence report or routing's count). */
export function lowered(s: LifecycleScope, deviceId: string, by: number): number {
  const prev = s.badges.devices.get(deviceId);
  const presence = s.presence?.devices.find((d) => d.deviceId === deviceId);
  const baseline = badgeBaseline(prev, presence);
  const next = lowerBadge({ count: baseline, at: '' }, by, s.now.toISOString());
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

/**
 * A recall for one user: every device that got the message gets a replacement (same
 * apns-collapse-id; on FCM the same tag when it is still the conversation's newest notification
 * there, else a data message) or, with the app's `recall.mode: silent`, a background push; each
 * device's badge drops by what the message added. The message's entry is taken out of the memory,
 * so a repeated recall finds nothing. (Remembering the digest against a late message intent is
 * the caller's.)
 */
export function decideRecall(intent: RecallIntent, s: LifecycleScope): LifecycleOutput {
  const { messageId, recalledAt } = intent.recall;
  const out: LifecycleOutput = { records: [], bytes: 0, changed: false };
  const taken = takeRecalled(s.badges.pushes, messageDigest(messageId));
  if (!taken) return out;
  const before = s.badges.pushes;
  s.badges.pushes = taken.rest;
  out.changed = true;
  const { entry } = taken;
  const silent = s.app?.recall?.mode === 'silent';
  for (const [deviceId, inc] of Object.entries(entry.v)) {
    const device = s.tokens?.devices.find((d) => d.deviceId === deviceId);
    if (!device) continue;
    const badge = lowered(s, deviceId, inc);
    const text = recalledText(s.app?.texts?.recalled, device.locale);
    const apns = (): ApnsLifecycle =>
      silent
        ? {
            payload: apnsBackgroundPayload('recall', badge, {
              recalled: [messageId],
              conversation: entry.c,
            }),
            background: true,
            collapseId: null,
          }
        : {
            payload: apnsRecallPayload(text, entry.c, badge, messageId),
            background: false,
            collapseId: entry.k ?? collapseIdFor(messageId),
          };
    const replace = !silent && isLatestOfConversation(before, entry, deviceId);
    const fcm = () =>
      replace
        ? fcmRecallNotification(text, entry.c, badge, messageId, LIFECYCLE_TTL_SECONDS)
        : fcmDataMessage(
            { type: 'recall', messageId, conversation: entry.c },
            badge,
            LIFECYCLE_TTL_SECONDS,
            'high',
          );
    const jobId = jobIdFor(s.appId, `recall:${messageId}`, s.userId, deviceId);
    const r = lifecycleRecord(s, device, { jobId, messageId, sentAt: recalledAt }, apns, fcm);
    if (!r) continue;
    out.records.push(r.record);
    out.bytes += r.bytes;
  }
  return out;
}
