import { TOPICS, type ImConversationRead, parseUserKey, userKey } from '@app/contracts';
import type { AppConfig } from '@app/config';
import { outbound, type OutboundRecord } from '@app/kafka';
import type { RecordContext } from '@app/observability';
import { readSyncAllowed, takeConversation } from '../badge/push-memory';
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
  pushed: number;
  deferred: number;
  quiet: number;
}

export interface ReadSyncResult {
  records: OutboundRecord[];
  badges: Map<string, UserBadges>;
  /** How many reads (from the first) were handled; the rest waits until `deferUntil`. */
  handled: number;
  /** When the first read not handled may be decided (ms): the end of its user's interval. */
  deferUntil?: number;
  tally: ReadSyncTally;
}

/** Conversations named in one read-sync push at most (the newest). */
export const MAX_SYNC_CONVERSATIONS = 20;
const BADGE_RECORD_BYTES = 1200;

/** The conversation key of a read, from the reader's side (`c2c:<peer>` / `group:<id>`). */
export const readConversationKey = (r: ImConversationRead): string =>
  `${r.conversation.type}:${r.conversation.id}`;

/** One user's read sync being built over a batch: which device is to clear which conversations. */
interface UserSync {
  scope: LifecycleScope;
  clear: Map<string, string[]>;
  /** Devices whose count a read changed (the others left their badge alone: no badge sent). */
  badged: Set<string>;
  last: ImConversationRead;
}

/** The output of one batch of reads, built read by read. */
class ReadBatch {
  readonly changed = new Map<string, UserBadges>();
  readonly syncs = new Map<string, UserSync>();
  readonly tally: ReadSyncTally = { pushed: 0, deferred: 0, quiet: 0 };
  readonly nowSeconds: number;
  bytes = 0;
  /** Set when a read had to wait for its user's interval (ms). */
  deferUntil: number | undefined;

  constructor(
    private readonly state: DecideState,
    private readonly opts: ReadSyncOptions,
  ) {
    this.nowSeconds = Math.floor(opts.now.getTime() / 1000);
  }

  /** False when the read must wait (its user's interval is not over): the batch stops there. */
  read(r: ImConversationRead, context: RecordContext | undefined): boolean {
    const key = userKey(r);
    const badges =
      this.changed.get(key) ?? cloneBadges(this.state.badges.get(key) ?? emptyBadges());
    const conversation = readConversationKey(r);
    const taken = takeConversation(badges.pushes, conversation);
    const tokens = this.state.tokens.get(key);
    const targets = [...taken.increments.keys()].filter(
      (id) => id !== r.deviceId && tokens?.devices.some((d) => d.deviceId === id),
    );
    const { intervalSeconds } = this.opts;
    if (
      targets.length > 0 &&
      !this.syncs.has(key) &&
      !readSyncAllowed(badges.readSyncAt, this.nowSeconds, intervalSeconds)
    ) {
      this.deferUntil = (badges.readSyncAt + intervalSeconds) * 1000;
      this.tally.deferred++;
      return false;
    }
    if (taken.increments.size === 0) {
      this.tally.quiet++;
      return true;
    }
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
    badges.pushes = taken.rest;
    for (const [deviceId, inc] of taken.increments) lowered(scope, deviceId, inc, r.readAt);
    badges.seq++;
    if (!this.changed.has(key)) this.bytes += BADGE_RECORD_BYTES;
    this.changed.set(key, badges);
    if (targets.length === 0) this.tally.quiet++;
    else this.addSync(key, scope, r, conversation, targets, taken.increments);
    return true;
  }

  private addSync(
    key: string,
    scope: LifecycleScope,
    r: ImConversationRead,
    conversation: string,
    targets: string[],
    increments: ReadonlyMap<string, number>,
  ): void {
    const sync = this.syncs.get(key) ?? {
      scope,
      clear: new Map<string, string[]>(),
      badged: new Set<string>(),
      last: r,
    };
    for (const id of targets) if ((increments.get(id) ?? 0) > 0) sync.badged.add(id);
    sync.scope = scope;
    sync.last = r;
    for (const id of targets) sync.clear.set(id, [...(sync.clear.get(id) ?? []), conversation]);
    this.syncs.set(key, sync);
    this.bytes += targets.length * 1000;
  }

  /** One background push per device to clear, then one changelog record per changed user. */
  finish(): OutboundRecord[] {
    const records: OutboundRecord[] = [];
    for (const sync of this.syncs.values()) {
      records.push(...readSyncPushes(sync));
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
 * A batch of conversation reads (one partition): each drops the user's badge counts by the
 * conversation's remembered increments and forgets them; the user's other devices that got pushes
 * of the conversation get one background push per user per batch (the new badge, the conversations
 * to clear). A user who got a read-sync push less than `intervalSeconds` ago stops the batch at
 * that read: it and the rest are decided once the interval is over, coalesced into one push.
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
    if (!batch.read(value, context)) break;
    handled++;
  }
  const records = batch.finish();
  return {
    records,
    badges: batch.changed,
    handled,
    deferUntil: batch.deferUntil,
    tally: batch.tally,
  };
}

/** The background pushes of one user's read sync: per device, its badge and what to clear. */
function readSyncPushes(sync: UserSync): OutboundRecord[] {
  const { scope: s, last } = sync;
  const out: OutboundRecord[] = [];
  for (const [deviceId, list] of sync.clear) {
    const device = s.tokens?.devices.find((d) => d.deviceId === deviceId);
    if (!device) continue;
    const conversations = [...new Set(list)].slice(-MAX_SYNC_CONVERSATIONS);
    const conversation = conversations[conversations.length - 1];
    const count = s.badges.devices.get(deviceId)?.count ?? 0;
    const badge = sync.badged.has(deviceId) ? count : null;
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
