import { TOPICS, type PushIntent, type PushOutcome } from '@app/contracts';
import type { AppConfig } from '@app/config';
import { outbound, type OutboundRecord } from '@app/kafka';
import type { RecordContext } from '@app/observability';
import { nextBadge } from '../badge/badge.counter';
import { decideDevices, type AppPolicy, type SuppressionRule } from '../decision/decision.rules';
import { buildDeviceRequest, platformOf } from './device-request.builder';
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
  app: (appId: string) => AppConfig | undefined;
  /**
   * Stop taking intents once the output is about this large (bytes of JSON). Every output record
   * of a user lands on the same partition number, and Kafka refuses a produce batch over
   * message.max.bytes (1 MB by default): the rest of the batch is handled in the next transaction.
   */
  maxOutputBytes?: number;
  /**
   * The correlation context of each intent (same order), carried onto what it produces, so that
   * a push can be followed from the message to the provider (and no context is minted per record).
   */
  contexts?: ReadonlyArray<RecordContext | undefined>;
}

export interface DecideTally {
  apns: number;
  fcm: number;
  suppressed: number;
  rejected: number;
  expired: number;
  duplicates: number;
}

export interface DecideResult {
  records: OutboundRecord[];
  /** Badge state to apply in memory once the transaction commits. */
  badges: Map<string, UserBadges>;
  tally: DecideTally;
  /** How many of the intents (from the first) were handled; the rest wait for the next batch. */
  handled: number;
}

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
};

/**
 * One batch of intents of one partition against the state: the requests and outcomes to produce,
 * the badge changelog records, and the badge state to apply after the commit. Pure over its
 * inputs (the state is read, never written here).
 */
export function decideIntents(
  intents: readonly PushIntent[],
  state: DecideState,
  opts: DecideOptions,
): DecideResult {
  const { now } = opts;
  const records: OutboundRecord[] = [];
  const changed = new Map<string, UserBadges>();
  const contextOf = new Map<string, RecordContext | undefined>();
  const tally: DecideTally = {
    apns: 0,
    fcm: 0,
    suppressed: 0,
    rejected: 0,
    expired: 0,
    duplicates: 0,
  };
  const budget = opts.maxOutputBytes ?? Number.POSITIVE_INFINITY;
  let bytes = 0;
  let handled = 0;
  for (const intent of intents) {
    if (handled > 0 && bytes >= budget) break;
    const context = opts.contexts?.[handled];
    handled++;
    const { appId, userId, message: m } = intent;
    const key = `${appId}:${userId}`;
    const badges = changed.get(key) ?? cloneBadges(state.badges.get(key) ?? emptyBadges());
    const digest = messageDigest(m.messageId);
    if (badges.recent.includes(digest)) {
      tally.duplicates++;
      continue;
    }
    const app = opts.app(appId);
    const tokens = state.tokens.get(key);
    const presence = state.presence.get(key);
    const outcome = (
      deviceId: string | null,
      provider: PushOutcome['provider'],
      status: PushOutcome['status'],
      code: string,
      reason: string,
    ) => {
      const value: PushOutcome = {
        jobId: jobIdFor(appId, m.messageId, userId, deviceId),
        messageId: m.messageId,
        appId,
        userId,
        deviceId,
        provider,
        status,
        code,
        reason,
        attempts: 0,
        latencyMs: null,
        at: now.toISOString(),
      };
      records.push(outbound(TOPICS.pushOutcome, value, { context }));
      bytes += OUTCOME_BYTES;
    };
    const expiresAt = new Date(Date.parse(m.sentAt) + m.ttlSeconds * 1000);
    const verdicts = decideDevices({
      message: m,
      userId,
      tokens,
      presence,
      policy: app?.policy ?? DEFAULT_POLICY,
      now,
    });
    let pushed = false;
    for (const v of verdicts) {
      const provider = v.device ? v.device.provider : null;
      const deviceId = v.device?.deviceId ?? null;
      if (!v.push) {
        tally.suppressed++;
        outcome(deviceId, provider, 'suppressed', v.rule, RULE_REASONS[v.rule]);
        continue;
      }
      if (m.ttlSeconds > 0 && expiresAt.getTime() <= now.getTime()) {
        tally.expired++;
        outcome(
          deviceId,
          provider,
          'expired',
          'ttl_elapsed',
          'ttlSeconds passed before the decision',
        );
        continue;
      }
      const step = nextBadge(
        badges.devices.get(v.device.deviceId),
        v.presence,
        m.offlinePush,
        platformOf(v.device),
        now,
      );
      const built = buildDeviceRequest(m, v.device, tokens?.settings, app, step.shown, {
        jobId: jobIdFor(appId, m.messageId, userId, v.device.deviceId),
        appId,
        userId,
        now,
        expiresAt,
      });
      switch (built.kind) {
        case 'apns':
          records.push(outbound(TOPICS.apnsRequest, built.request, { context }));
          break;
        case 'fcm':
          records.push(outbound(TOPICS.fcmRequest, built.request, { context }));
          break;
        case 'suppressed':
          tally.suppressed++;
          outcome(deviceId, provider, 'suppressed', built.code, built.reason);
          continue;
        case 'rejected':
          tally.rejected++;
          outcome(deviceId, provider, 'rejected', built.code, built.reason);
          continue;
      }
      tally[built.kind]++;
      bytes += built.bytes;
      badges.devices.set(v.device.deviceId, step.next);
      pushed = true;
    }
    if (pushed && opts.dedupeWindow > 0) {
      badges.recent.push(digest);
      if (badges.recent.length > opts.dedupeWindow)
        badges.recent.splice(0, badges.recent.length - opts.dedupeWindow);
    }
    if (pushed) {
      if (!changed.has(key)) bytes += BADGE_RECORD_BYTES;
      contextOf.set(key, context);
      // Devices the user no longer has keep no count.
      const registered = new Set(tokens?.devices.map((d) => d.deviceId));
      for (const deviceId of badges.devices.keys())
        if (!registered.has(deviceId)) badges.devices.delete(deviceId);
      badges.seq++;
      changed.set(key, badges);
    }
  }
  for (const [key, b] of changed) {
    const sep = key.indexOf(':');
    records.push(
      outbound(
        TOPICS.routingBadgeState,
        badgeRecord(key.slice(0, sep), key.slice(sep + 1), b, now),
        { context: contextOf.get(key) },
      ),
    );
  }
  return { records, badges: changed, tally, handled };
}
