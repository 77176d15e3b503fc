import { TOPICS, type ImConversationRead, parseUserKey, userKey } from '@app/contracts';
import type { AppConfig } from '@app/config';
import { outbound, type OutboundRecord } from '@app/kafka';
import type { RecordContext } from '@app/observability';
import { readConversation, readSyncAllowed, settleOwed, syncOwed } from '../badge/push-memory';
import { apnsBackgroundPayload, fcmDataMessage } from '../rendering/lifecycle.renderer';
import {
  badgeRecord,
  cloneBadges,
  emptyBadges,
  type DecideState,
  type UserBadges,
} from './decide.state';
import type { Caused } from './intent.decider';
import { jobIdFor } from './job-id.util';
import {
  LIFECYCLE_TTL_SECONDS,
  lifecycleRecord,
  lowered,
  type LifecycleScope,
} from './lifecycle.decider';

export interface ReadSyncOptions {
  now: Date;
  app: (appId: string) => AppConfig | undefined;
  /** At most one read-sync push per user per this many seconds (0: no limit). */
  intervalSeconds: number;
  maxOutputBytes?: number;
}

export interface ReadSyncTally {
  /** Users who got read-sync pushes. */
  pushed: number;
  /** Reads inside their user's interval: badge lowered now, the sync owed (see decideReads). */
  owed: number;
  quiet: number;
}

export interface ReadSyncResult {
  records: OutboundRecord[];
  badges: Map<string, UserBadges>;
  /** How many reads (from the first) were handled; the rest goes in the next transaction. */
  handled: number;
  tally: ReadSyncTally;
}

/** Conversations named in one read-sync push at most (the newest). */
export const MAX_SYNC_CONVERSATIONS = 20;
/**
 * Bytes of the conversation list in a read-sync push at most, as FCM carries it (a JSON array in
 * a JSON string): the payload stays under APNs' and FCM's 4 KB with the conversation named again.
 */
export const MAX_SYNC_CONVERSATIONS_BYTES = 2048;
const BADGE_RECORD_BYTES = 1200;

/** The conversation key of a read, from the reader's side (`c2c:<peer>` / `group:<id>`). */
export const readConversationKey = (r: ImConversationRead): string =>
  `${r.conversation.type}:${r.conversation.id}`;

/**
 * The newest conversations of `list` (newest last) that fit one push: at most
 * MAX_SYNC_CONVERSATIONS and MAX_SYNC_CONVERSATIONS_BYTES; the newest always.
 */
export function fitConversations(list: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = list.length - 1; i >= 0 && kept.length < MAX_SYNC_CONVERSATIONS; i--) {
    const next = [list[i], ...kept];
    const bytes = Buffer.byteLength(JSON.stringify(JSON.stringify(next)));
    if (kept.length > 0 && bytes > MAX_SYNC_CONVERSATIONS_BYTES) break;
    kept.unshift(list[i]);
  }
  return kept;
}

/** One user's read sync due in this batch: the owed conversations go out at the end. */
interface UserSync {
  scope: LifecycleScope;
  last: ImConversationRead;
  /**
   * Devices whose count a read of this batch lowered; the others get no badge (a `badgeMode: 1`
   * message left their badge to the app). A sync owed from an earlier batch sends the count.
   */
  badged: Set<string>;
  /** Conversations read in this batch (a device's others were owed from an earlier batch). */
  readNow: Set<string>;
}

/** The output of one batch of reads, built read by read. */
class ReadBatch {
  readonly changed = new Map<string, UserBadges>();
  readonly syncs = new Map<string, UserSync>();
  readonly tally: ReadSyncTally = { pushed: 0, owed: 0, quiet: 0 };
  readonly nowSeconds: number;
  bytes = 0;

  constructor(
    private readonly state: DecideState,
    private readonly opts: ReadSyncOptions,
  ) {
    this.nowSeconds = Math.floor(opts.now.getTime() / 1000);
  }

  /** Whether the user may get a read-sync push in this batch (one per interval). */
  private mayPush(key: string, badges: UserBadges): boolean {
    return (
      this.syncs.has(key) ||
      readSyncAllowed(badges.readSyncAt, this.nowSeconds, this.opts.intervalSeconds)
    );
  }

  /**
   * One read: the conversation's pushes sent at or before it are marked read and the badges drop
   * at once; the sync is owed until the user may get a push (then this batch sends it).
   */
  read(r: ImConversationRead, context: RecordContext | undefined): void {
    const key = userKey(r);
    const badges =
      this.changed.get(key) ?? cloneBadges(this.state.badges.get(key) ?? emptyBadges());
    const readAt = Math.floor(Date.parse(r.readAt) / 1000);
    const taken = readConversation(
      badges.pushes,
      readConversationKey(r),
      readAt,
      r.deviceId ?? null,
    );
    const may = this.mayPush(key, badges);
    if (taken.increments.size === 0 && !(may && syncOwed(taken.pushes))) {
      this.tally.quiet++;
      return;
    }
    const tokens = this.state.tokens.get(key);
    const scope: LifecycleScope = {
      appId: r.appId,
      userId: r.userId,
      badges,
      tokens,
      presence: this.state.presence.get(key),
      app: this.opts.app(r.appId),
      now: this.opts.now,
      context,
    };
    badges.pushes = taken.pushes;
    for (const [deviceId, inc] of taken.increments) lowered(scope, deviceId, inc, r.readAt);
    badges.seq++;
    if (!this.changed.has(key)) this.bytes += BADGE_RECORD_BYTES;
    this.changed.set(key, badges);
    if (may) {
      if (!this.syncs.has(key)) this.bytes += (tokens?.devices.length ?? 0) * 1000;
      const prior = this.syncs.get(key);
      const badged = prior?.badged ?? new Set<string>();
      for (const [deviceId, inc] of taken.increments) if (inc > 0) badged.add(deviceId);
      const readNow = (prior?.readNow ?? new Set<string>()).add(readConversationKey(r));
      this.syncs.set(key, { scope, last: r, badged, readNow });
    } else if (syncOwed(taken.pushes)) this.tally.owed++;
    else this.tally.quiet++;
  }

  /** One background push per device with owed syncs, then one changelog record per changed user. */
  finish(): OutboundRecord[] {
    const records: OutboundRecord[] = [];
    for (const sync of this.syncs.values()) {
      const settled = settleOwed(sync.scope.badges.pushes);
      sync.scope.badges.pushes = settled.pushes;
      const pushes = readSyncPushes(sync, settled.clear);
      if (pushes.length === 0) {
        this.tally.quiet++;
        continue;
      }
      records.push(...pushes);
      sync.scope.badges.readSyncAt = this.nowSeconds;
      this.tally.pushed++;
    }
    for (const [key, b] of this.changed) {
      const { appId, userId } = parseUserKey(key);
      const context = this.syncs.get(key)?.scope.context;
      const value = badgeRecord(appId, userId, b, this.opts.now);
      records.push(outbound(TOPICS.routingBadgeState, value, { context }));
    }
    return records;
  }
}

/**
 * A batch of conversation reads (one partition), never held back: each read marks the
 * conversation's pushes sent at or before `readAt` read (increments zeroed, entries kept for a
 * later recall) and drops the user's badge counts by what they added, at once. The user's other
 * devices that got those pushes are owed a read sync: one background push per device (the new
 * badge, the conversations to clear) per user per batch, at most one per `intervalSeconds`. A
 * read inside the interval sends nothing; its sync stays owed in the user's memory (`r: 2`) and
 * goes out with the user's next read that is allowed to push (the badge as it is then); the
 * user's next chat push carries the lowered badge in any case.
 */
export function decideReads(
  reads: ReadonlyArray<Caused<ImConversationRead>>,
  state: DecideState,
  opts: ReadSyncOptions,
): ReadSyncResult {
  const batch = new ReadBatch(state, opts);
  const budget = opts.maxOutputBytes ?? Number.POSITIVE_INFINITY;
  let handled = 0;
  for (const { value, context } of reads) {
    if (handled > 0 && batch.bytes >= budget) break;
    batch.read(value, context);
    handled++;
  }
  const records = batch.finish();
  return { records, badges: batch.changed, handled, tally: batch.tally };
}

/** The background pushes of one user's read sync: per device, its badge and what to clear. */
function readSyncPushes(sync: UserSync, clear: ReadonlyMap<string, string[]>): OutboundRecord[] {
  const { scope: s, last } = sync;
  const out: OutboundRecord[] = [];
  for (const [deviceId, list] of clear) {
    const device = s.tokens?.devices.find((d) => d.deviceId === deviceId);
    if (!device) continue;
    const conversations = fitConversations(list);
    const conversation = conversations[conversations.length - 1];
    const count = s.badges.devices.get(deviceId)?.count ?? 0;
    const owedEarlier = list.some((c) => !sync.readNow.has(c));
    const badge = sync.badged.has(deviceId) || owedEarlier ? count : null;
    // `\n` cannot be in a message id: a read's job id never meets a message's.
    const jobKey = `read\n${conversation}\n${last.readAt}`;
    const jobId = jobIdFor(s.appId, jobKey, s.userId, deviceId);
    const r = lifecycleRecord(
      s,
      device,
      { jobId, messageId: `read:${conversation}`, sentAt: last.readAt },
      () => ({
        payload: apnsBackgroundPayload('read', badge, { conversation, conversations }),
        background: true,
        collapseId: null,
      }),
      () =>
        fcmDataMessage(
          { type: 'read', conversation, conversations: JSON.stringify(conversations) },
          badge,
          LIFECYCLE_TTL_SECONDS,
          'normal',
        ),
    );
    if (r) out.push(r.record);
  }
  return out;
}
