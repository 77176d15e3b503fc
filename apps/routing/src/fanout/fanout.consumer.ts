import { Inject } from '@nestjs/common';
import {
  TOPICS,
  type ImGroupMembers,
  type ImMessageRecalled,
  type ImMessageSent,
} from '@app/contracts';
import { AppsRegistry } from '@app/config';
import {
  EventProducer,
  KafkaBatchContext,
  KafkaConsumer,
  OnAssigned,
  OnBatch,
  OnState,
  PoisonRecordException,
  RetryableException,
  type ConsumedRecord,
  type HandlerResult,
  type RejectedRecord,
} from '@app/kafka';
import { FANOUT_GROUP, FANOUT_PRODUCER, MEMBERSHIP_CHECK_GROUP } from '../routing.groups';
import { routingMetrics } from '../routing.metrics';
import { IntentWriter } from './intent.writer';
import { checkIntentFits } from './intent-fits';
import { groupKey, resolveRecipients } from './recipients.util';

export interface FanoutOptions {
  /** Intents per produce call. */
  chunk: number;
  /** How long a group message waits for its group's membership before it is dead-lettered. */
  unknownGroupGraceMs: number;
  /** Recalled message ids remembered per partition: such a message read later is not fanned out. */
  recalledPerPartition?: number;
  clock?: () => Date;
}

const DEFAULT_RECALLED_PER_PARTITION = 10000;
const recalledKey = (appId: string, messageId: string) => `${appId}\n${messageId}`;

export const FANOUT_OPTIONS = Symbol('FANOUT_OPTIONS');

/**
 * The fan-out stage: one push.intent.v1 per recipient of each im.message.sent.v1, with group
 * members from the compacted im.group-members.v1 (co-partitioned with the group's messages, so
 * each instance holds the groups of its own partitions).
 *
 * At least once: intents are produced in chunks while the message is walked, and the input offset
 * is committed after the last chunk. A crash in between fans the message out again; the decide
 * stage drops the repeated intents (per-user memory of recent messages, kept in its changelog).
 */
@KafkaConsumer()
export class FanoutConsumer {
  readonly groups = new Map<string, readonly string[]>();
  /** `partition:offset` of messages waiting for their group's membership, since when. */
  private readonly waitingSince = new Map<string, number>();
  /** Per input partition: recently recalled messages (`appId\nmessageId`), oldest first. */
  private readonly recalled = new Map<number, Set<string>>();
  private readonly clock: () => Date;

  constructor(
    @Inject(FANOUT_PRODUCER) private readonly producer: EventProducer,
    private readonly apps: AppsRegistry,
    @Inject(FANOUT_OPTIONS) private readonly opts: FanoutOptions,
  ) {
    this.clock = opts.clock ?? (() => new Date());
  }

  @OnAssigned(FANOUT_GROUP)
  assigned(): void {
    this.groups.clear();
    this.waitingSince.clear();
    this.recalled.clear();
  }

  @OnState(FANOUT_GROUP, TOPICS.imGroupMembers)
  memberships(rs: ConsumedRecord<ImGroupMembers, 'compact'>[]): void {
    for (const r of rs) {
      if (r.value === null) {
        if (r.key !== null) this.groups.delete(r.key);
        continue;
      }
      const key = groupKey(r.value.appId, r.value.groupId);
      // A record keyed as another group must not replace that group's members.
      if (r.key !== null && r.key !== key) continue;
      this.groups.set(key, r.value.members);
    }
  }

  @OnBatch(FANOUT_GROUP, TOPICS.imMessageSent)
  messages(rs: ConsumedRecord<ImMessageSent>[], ctx: KafkaBatchContext): Promise<HandlerResult> {
    return this.fanOut(rs, ctx.partition);
  }

  /**
   * Recalls: one recall intent per recipient (like the message's), on push.intent.v1 where decide
   * sees it after the user's intent of the message. The recalled id is remembered for the
   * partition, so the message is not fanned out if it is read after its recall.
   */
  @OnBatch(FANOUT_GROUP, TOPICS.imMessageRecalled)
  recalls(rs: ConsumedRecord<ImMessageRecalled>[], ctx: KafkaBatchContext): Promise<HandlerResult> {
    return this.fanOutRecalls(rs, ctx.partition);
  }

  /**
   * Reads im.group-members.v1 as an input of its own group (committed), so that a membership
   * record that fails its schema, or whose key is not its group's, is dead-lettered once; the
   * fan-out's state reader skips such records on every restore.
   */
  @OnBatch(MEMBERSHIP_CHECK_GROUP, TOPICS.imGroupMembers)
  checkMemberships(rs: ConsumedRecord<ImGroupMembers, 'compact'>[]): HandlerResult {
    return { rejected: this.keyMismatches(rs) };
  }

  /** Membership records whose key is not the key of the group they describe. */
  private keyMismatches(rs: ConsumedRecord<ImGroupMembers, 'compact'>[]): RejectedRecord[] {
    const rejected: RejectedRecord[] = [];
    for (const r of rs) {
      if (r.value === null) continue;
      const key = groupKey(r.value.appId, r.value.groupId);
      if (r.key === key) continue;
      const message = `the record is keyed ${JSON.stringify(r.key?.slice(0, 300) ?? null)}, not ${key}: it would be read on another partition than the group's messages`;
      rejected.push({ record: r, code: 'KEY_MISMATCH', message });
    }
    return rejected;
  }

  private async fanOut(
    rs: ConsumedRecord<ImMessageSent>[],
    partition: number,
  ): Promise<HandlerResult> {
    const rejected: RejectedRecord[] = [];
    const reject = (record: ConsumedRecord<ImMessageSent>, code: string, message: string) =>
      rejected.push({ record, code, message });
    // Resolve every message before writing anything, so that waiting for a group's membership
    // (below) never repeats the intents of the messages before it.
    const plans: Array<{ r: ConsumedRecord<ImMessageSent>; userIds: Iterable<string> }> = [];
    const fanoutAt = this.clock().toISOString();
    this.forgetWaitsBefore(partition, rs[0]?.offset);
    let waiting: string | undefined;
    for (const r of rs) {
      const m = r.value;
      if (!this.apps.get(m.appId)) {
        reject(r, 'UNKNOWN_APP', `app ${m.appId} is not configured in PUSH_APPS_FILE`);
        continue;
      }
      if (this.recalled.get(partition)?.has(recalledKey(m.appId, m.messageId))) {
        routingMetrics.fanoutSkippedRecalled.inc();
        continue;
      }
      try {
        checkIntentFits(m, fanoutAt);
      } catch (e) {
        if (!(e instanceof PoisonRecordException)) throw e;
        reject(r, e.code, e.message);
        continue;
      }
      const recipients = resolveRecipients(m, (key) => this.groups.get(key));
      if (!recipients.ok) {
        // A membership written just before the message may not be read yet: wait a little.
        if (this.stillWaiting(partition, r.offset)) waiting ??= recipients.message;
        else reject(r, recipients.code, recipients.message);
        continue;
      }
      routingMetrics.fanoutRecipients.observe(recipients.count);
      plans.push({ r, userIds: recipients.userIds });
    }
    // Every message of the batch waits from the same attempt on: one whose grace ended stays
    // rejected when the batch is tried again, so two such messages never take turns restarting
    // each other's wait (a partition that never moves on).
    if (waiting !== undefined) throw new RetryableException(`${waiting}; waiting for it`);
    const writer = new IntentWriter(this.producer, this.opts.chunk);
    // Kafka, not the message (its size and schema were checked above): retry the batch
    // (repeated intents are dropped by decide).
    const retry = (e: unknown) =>
      new RetryableException(`producing intents failed: ${(e as Error).message}`, { cause: e });
    for (const { r, userIds } of plans) {
      try {
        for (const userId of userIds) await writer.add(r.value, userId, fanoutAt, r.context);
      } catch (e) {
        throw retry(e);
      }
    }
    try {
      await writer.flush();
    } catch (e) {
      throw retry(e);
    }
    routingMetrics.intentsWritten.inc(writer.written);
    return { rejected };
  }

  /** True while a message without its group's membership is within the grace (since first seen). */
  private stillWaiting(partition: number, offset: string): boolean {
    const key = `${partition}:${offset}`;
    const since = this.waitingSince.get(key) ?? Date.now();
    this.waitingSince.set(key, since);
    return Date.now() - since < this.opts.unknownGroupGraceMs;
  }

  /** Waits of offsets before the batch's first are over (committed): forget them. */
  private forgetWaitsBefore(partition: number, first: string | undefined): void {
    if (first === undefined || this.waitingSince.size === 0) return;
    const from = BigInt(first);
    for (const key of this.waitingSince.keys()) {
      const [p, offset] = key.split(':');
      if (Number(p) === partition && BigInt(offset) < from) this.waitingSince.delete(key);
    }
  }

  private rememberRecalled(partition: number, appId: string, messageId: string): void {
    const max = this.opts.recalledPerPartition ?? DEFAULT_RECALLED_PER_PARTITION;
    if (max <= 0) return;
    let set = this.recalled.get(partition);
    if (!set) this.recalled.set(partition, (set = new Set()));
    const key = recalledKey(appId, messageId);
    set.delete(key);
    set.add(key);
    // A Set iterates in insertion order: the first is the oldest.
    while (set.size > max) set.delete(set.values().next().value!);
  }

  private async fanOutRecalls(
    rs: ConsumedRecord<ImMessageRecalled>[],
    partition: number,
  ): Promise<HandlerResult> {
    const rejected: RejectedRecord[] = [];
    const fanoutAt = this.clock().toISOString();
    const writer = new IntentWriter(this.producer, this.opts.chunk);
    try {
      for (const r of rs) {
        const v = r.value;
        if (!this.apps.get(v.appId)) {
          const message = `app ${v.appId} is not configured in PUSH_APPS_FILE`;
          rejected.push({ record: r, code: 'UNKNOWN_APP', message });
          continue;
        }
        this.rememberRecalled(partition, v.appId, v.messageId);
        const addressed = { ...v, sender: { userId: v.senderId ?? null } };
        const recipients = resolveRecipients(addressed, (key) => this.groups.get(key));
        if (!recipients.ok) {
          rejected.push({ record: r, code: recipients.code, message: recipients.message });
          continue;
        }
        for (const userId of recipients.userIds) {
          await writer.addRecall(v, userId, fanoutAt, r.context);
        }
      }
      await writer.flush();
    } catch (e) {
      throw new RetryableException(`producing recall intents failed: ${(e as Error).message}`, {
        cause: e,
      });
    }
    routingMetrics.intentsWritten.inc(writer.written);
    return { rejected };
  }
}
