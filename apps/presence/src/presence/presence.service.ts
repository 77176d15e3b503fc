import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppsRegistry, ServiceConfig } from '@app/config';
import { userKey, type PresenceDeviceEvent, type PresenceUserState } from '@app/contracts';
import {
  EventProducer,
  encodeOutbound,
  PoisonRecordException,
  RetryableException,
  SchemaViolationException,
  outbound,
  type ConsumedRecord,
  type DeadLetterReason,
  type EncodedRecord,
  type HandlerResult,
  type RejectedRecord,
} from '@app/kafka';
import { toEventInput, type DeviceEventInput } from '../state/device-presence.machine';
import { PresenceStore, type PartitionState } from '../state/presence.store';
import {
  applyEvents,
  emptyUser,
  isDue,
  restoreFrom,
  sweep,
  toSnapshot,
  type SnapshotRules,
  type UserChange,
} from '../state/user-presence.machine';
import { presenceMetrics } from './presence.metrics';
import { checkEvent } from './presence-event.checks';
import type { PresenceEnv } from '../presence-env.schema';
import { PRESENCE_TOPICS, type PresenceTopics } from './presence.topics';

const DAY_MS = 86_400_000;
const SEND_CHUNK = 500;

/**
 * Broker answers that refuse the records themselves (kafkajs error types): no retry makes them
 * pass. Everything else from a send (connection, timeout, leadership, a full backlog) is an
 * outage, retried.
 */
const RECORD_REFUSALS: ReadonlySet<string> = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_TIMESTAMP',
]);

/** The kafkajs error type of a broker refusal somewhere in the cause chain, if any. */
function recordRefusal(e: unknown): string | undefined {
  for (let x = e as { type?: unknown; cause?: unknown } | undefined, i = 0; x && i < 10; i++) {
    if (typeof x.type === 'string' && RECORD_REFUSALS.has(x.type)) return x.type;
    x = x.cause as typeof x;
  }
  return undefined;
}

/** Users whose snapshot could not be published, with the reason (their events are refused). */
type Refused = Map<string, DeadLetterReason>;

/**
 * Presence state of the partitions this instance owns: device events in, snapshots out, timers
 * swept. Each change is published before it is installed in memory, so memory never holds a
 * state the changelog would not restore.
 */
@Injectable()
export class PresenceService {
  private readonly logger = new Logger(PresenceService.name);
  private readonly rules = new Map<string, SnapshotRules>();
  /** For users of an app removed from the apps file since: the default policy. */
  private readonly defaultRules: SnapshotRules;
  private readonly maxSkewMs: number;
  private readonly maxDevices: number;

  constructor(
    readonly store: PresenceStore,
    private readonly producer: EventProducer,
    private readonly apps: AppsRegistry,
    config: ServiceConfig<PresenceEnv>,
    @Inject(PRESENCE_TOPICS) private readonly topics: PresenceTopics,
  ) {
    const env = config.env;
    this.maxSkewMs = env.PRESENCE_MAX_CLOCK_SKEW_SECONDS * 1000;
    this.maxDevices = env.PRESENCE_MAX_DEVICES_PER_USER;
    const rules = (offlineAfterDays: number): SnapshotRules => ({
      heartbeatTimeoutMs: env.PRESENCE_HEARTBEAT_TIMEOUT_SECONDS * 1000,
      offlineAfterMs: offlineAfterDays * DAY_MS,
      persistLastSeenMs: env.PRESENCE_PERSIST_LAST_SEEN_SECONDS * 1000,
      forgetAfterMs: env.PRESENCE_FORGET_AFTER_DAYS * DAY_MS,
      maxDevices: env.PRESENCE_MAX_DEVICES_PER_USER,
    });
    this.defaultRules = rules(7);
    for (const app of apps.all()) this.rules.set(app.id, rules(app.policy.offlineAfterDays));
  }

  rulesFor(appId: string): SnapshotRules {
    return this.rules.get(appId) ?? this.defaultRules;
  }

  /**
   * A batch of device events of one partition. Rejected events become dead letters, and so do the
   * events of a user whose new snapshot Kafka would refuse (the user keeps the state last
   * published; the rest of the batch goes on).
   */
  async onDeviceEvents(
    records: ConsumedRecord<PresenceDeviceEvent>[],
    partition: number,
  ): Promise<HandlerResult> {
    const part = this.partition(partition);
    return part.exclusive(async () => {
      const now = Date.now();
      const { byUser, rejected } = this.triage(records, now);
      this.assertOwned(part);
      const changes = [...byUser].map(([key, { appId, userId, events }]) => {
        const held = part.users.get(key) ?? emptyUser(appId, userId);
        return [
          key,
          applyEvents(held, events, now, this.rulesFor(appId), part.watchingSince),
        ] as const;
      });
      const refused = await this.publish(changes);
      for (const [key, reason] of refused) {
        const { recs } = byUser.get(key)!;
        this.logger.warn({
          msg: 'dead-lettering the events of a user whose snapshot cannot be published',
          key,
          events: recs.length,
          ...reason,
        });
        presenceMetrics.rejected.inc({ code: reason.code }, recs.length);
        for (const record of recs) rejected.push({ record, ...reason });
      }
      this.install(part, refused.size ? changes.filter(([k]) => !refused.has(k)) : changes);
      presenceMetrics.events.inc(records.length - rejected.length);
      return { rejected };
    });
  }

  /** Groups the batch's events by user, in order, and sets apart the ones presence rejects. */
  private triage(records: ConsumedRecord<PresenceDeviceEvent>[], now: number) {
    const rejected: RejectedRecord[] = [];
    const byUser = new Map<
      string,
      {
        appId: string;
        userId: string;
        events: DeviceEventInput[];
        recs: ConsumedRecord<PresenceDeviceEvent>[];
      }
    >();
    for (const rec of records) {
      const rejection = checkEvent(rec, this.apps, now, this.maxSkewMs);
      if (rejection) {
        presenceMetrics.rejected.inc({ code: rejection.code });
        rejected.push({ record: rec, ...rejection });
        continue;
      }
      const e = rec.value;
      let entry = byUser.get(rec.key!);
      if (!entry) {
        byUser.set(rec.key!, (entry = { appId: e.appId, userId: e.userId, events: [], recs: [] }));
      }
      entry.events.push(toEventInput(e));
      entry.recs.push(rec);
    }
    return { byUser, rejected };
  }

  /** Changelog records of one partition: the restore, and afterwards our own snapshots coming back. */
  async onSnapshots(
    records: ConsumedRecord<PresenceUserState, 'compact'>[],
    partition: number,
  ): Promise<void> {
    const part = this.store.get(partition);
    if (!part) return;
    await part.exclusive(async () => {
      for (const rec of records) {
        if (rec.key === null) continue;
        if (rec.value === null) {
          part.users.delete(rec.key);
          continue;
        }
        // An app no longer in the apps file is no longer maintained (nor routed to).
        if (!this.apps.get(rec.value.appId)) continue;
        const restored = restoreFrom(part.users.get(rec.key), rec.value);
        if (restored) part.users.set(rec.key, restored);
      }
    });
  }

  /** Runs the timers of every owned partition once; returns how many snapshots it published. */
  async sweepAll(now = Date.now()): Promise<number> {
    let published = 0;
    for (const part of this.store.owned()) {
      published += await part.exclusive(async () => {
        // Dropped by a rebalance while earlier partitions were swept: its new owner runs its timers.
        if (this.store.get(part.partition) !== part) return 0;
        const changes: Array<readonly [string, UserChange]> = [];
        for (const [key, user] of part.users) {
          const rules = this.rulesFor(user.appId);
          if (isDue(user, now, rules, part.watchingSince)) {
            changes.push([key, sweep(user, now, rules, part.watchingSince)] as const);
          }
        }
        const refused = await this.publish(changes);
        for (const [key, reason] of refused)
        // Kept as it was (memory holds only what was published); the next sweep tries again.
        {
          this.logger.error({ msg: 'cannot publish a swept snapshot', key, ...reason });
        }
        const kept = refused.size ? changes.filter(([k]) => !refused.has(k)) : changes;
        this.install(part, kept);
        return kept.filter(([, c]) => c.snapshot !== undefined).length;
      });
    }
    if (published) presenceMetrics.sweepSnapshots.inc(published);
    return published;
  }

  /**
   * The user's presence as this instance holds it, with the timers applied as of now (`version` is
   * the last published one). `not_owner` when the user's partition is another instance's.
   */
  view(
    appId: string,
    userId: string,
    partition: number,
    now = Date.now(),
  ): PresenceUserState | 'not_owner' | 'unknown' {
    const part = this.store.get(partition);
    if (!part) return 'not_owner';
    const user = part.users.get(userKey({ appId, userId }));
    if (!user) return 'unknown';
    const current = sweep(
      user,
      now,
      { ...this.rulesFor(appId), forgetAfterMs: 0 },
      part.watchingSince,
    );
    return toSnapshot(user, current.user?.devices ?? new Map());
  }

  private partition(partition: number): PartitionState {
    const part = this.store.get(partition);
    // The runner hands over batches of assigned partitions only, after `onAssigned`.
    if (!part) throw new RetryableException(`partition ${partition} is not assigned here`);
    return part;
  }

  /**
   * A rebalance may take the partition away while a batch waits for the partition's turn: nothing
   * computed from the old state may then be published (the runner reads the batch again later).
   */
  private assertOwned(part: PartitionState): void {
    if (this.store.get(part.partition) !== part) {
      throw new RetryableException(`partition ${part.partition} is no longer assigned here`);
    }
  }

  /**
   * Publishes the changes' snapshots (acks=all). A snapshot Kafka would refuse (over the topic's
   * max.message.bytes, or not valid) is not sent and its user is returned as refused, so that one
   * user can never hold the partition; nothing else of the batch depends on it. A broker outage
   * (or a full producer backlog) is retryable; a broker that refuses the records themselves fails
   * the batch as poison, and the runner isolates the event that caused it.
   */
  private async publish(changes: ReadonlyArray<readonly [string, UserChange]>): Promise<Refused> {
    const refused: Refused = new Map();
    const out: EncodedRecord[] = [];
    for (const [key, c] of changes) {
      if (c.snapshot === undefined) continue;
      try {
        out.push(encodeOutbound(outbound(this.topics.userState, c.snapshot, { key })));
      } catch (e) {
        if (!(e instanceof PoisonRecordException || e instanceof SchemaViolationException)) throw e;
        refused.set(key, { code: e.code, message: e.message });
      }
    }
    try {
      for (let i = 0; i < out.length; i += SEND_CHUNK) {
        await this.producer.sendEncoded(out.slice(i, i + SEND_CHUNK));
      }
    } catch (e) {
      if (e instanceof RetryableException) throw e;
      const refusal = recordRefusal(e);
      if (refusal) {
        throw new PoisonRecordException(
          refusal === 'MESSAGE_TOO_LARGE' || refusal === 'RECORD_LIST_TOO_LARGE'
            ? 'OUTPUT_TOO_LARGE'
            : 'OUTPUT_REFUSED',
          `Kafka refused presence snapshots (${refusal}): ${(e as Error).message}`,
        );
      }
      throw new RetryableException(`cannot publish presence snapshots: ${(e as Error).message}`, {
        cause: e,
      });
    }
    if (out.length) presenceMetrics.snapshots.inc(out.length);
    return refused;
  }

  private install(part: PartitionState, changes: ReadonlyArray<readonly [string, UserChange]>) {
    for (const [key, c] of changes) {
      if (c.user) part.users.set(key, c.user);
      else part.users.delete(key);
      if (c.evicted) {
        presenceMetrics.evictions.inc(c.evicted.length);
        this.logger.log({
          msg: 'evicted devices over the per-user cap',
          key,
          cap: this.maxDevices,
          evicted: c.evicted.length,
          // A user may name thousands: the first few identify the case.
          devices: c.evicted.slice(0, 10),
        });
      }
    }
  }
}
