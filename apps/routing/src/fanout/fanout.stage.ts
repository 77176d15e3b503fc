import { Logger } from '@nestjs/common';
import { TOPICS, type ImGroupMembers, type ImMessageSent, type PushIntent } from '@app/contracts';
import type { AppsRegistry } from '@app/config';
import {
  ConsumerRunner,
  deadLetterForRecord,
  encodeOutbound,
  outbound,
  PoisonRecordException,
  RetryableException,
  type ConsumedRecord,
  type EventProducer,
  type OutboundRecord,
} from '@app/kafka';
import type { Kafka } from 'kafkajs';
import { routingMetrics } from '../routing.metrics';
import { IntentWriter } from './intent.writer';
import { groupKey, resolveRecipients } from './recipients.util';

/** The longest user id the contracts allow: an intent sized with it is an upper bound. */
const LONGEST_USER_ID = 'u'.repeat(128);

/**
 * Throws `RecordTooLargeException` when an intent of this message cannot fit push.intent.v1
 * (the intent embeds the message, less its recipients, plus the recipient and a few fields).
 */
export function checkIntentFits(m: ImMessageSent, fanoutAt: string): void {
  const message: ImMessageSent = {
    ...m,
    recipients: m.conversation.type === 'c2c' ? [LONGEST_USER_ID] : null,
  };
  const intent: PushIntent = { appId: m.appId, userId: LONGEST_USER_ID, message, fanoutAt };
  // Sized only: the message passed its schema when it was read, and the intents written from it
  // are validated when they are sent.
  encodeOutbound(
    outbound(TOPICS.pushIntent, intent, {
      context: { correlationId: 'x'.repeat(128) },
      prevalidated: true,
    }),
  );
}

export interface FanoutStageOptions {
  groupId: string;
  /** Intents per produce call. */
  chunk: number;
  /** How long a group message waits for its group's membership before it is dead-lettered. */
  unknownGroupGraceMs: number;
  clock?: () => Date;
  /** Where a group that never committed starts on its input (see `ConsumerRunnerOptions`). */
  newGroupStart?: 'earliest' | 'latest';
}

/**
 * The fan-out stage: one push.intent.v1 per recipient of each im.message.sent.v1, with group
 * members from the compacted im.group-members.v1 (co-partitioned with the group's messages, so
 * each instance holds the groups of its own partitions).
 *
 * At least once: intents are produced in chunks while the message is walked, and the input offset
 * is committed after the last chunk. A crash in between fans the message out again; the decide
 * stage drops the repeated intents (per-user memory of recent messages, kept in its changelog).
 */
export class FanoutStage {
  private readonly logger = new Logger('FanoutStage');
  readonly groups = new Map<string, readonly string[]>();
  /** `partition:offset` of messages waiting for their group's membership, since when. */
  private readonly waitingSince = new Map<string, number>();
  readonly runner: ConsumerRunner;
  /**
   * Reads im.group-members.v1 as an input of its own group (committed), so that a membership
   * record that fails its schema, or whose key is not its group's, is dead-lettered once; the
   * fan-out's state reader skips such records on every restore.
   */
  readonly membershipCheck: ConsumerRunner;
  private readonly clock: () => Date;

  constructor(
    kafka: Kafka,
    private readonly producer: EventProducer,
    private readonly apps: AppsRegistry,
    private readonly opts: FanoutStageOptions,
  ) {
    this.clock = opts.clock ?? (() => new Date());
    this.runner = new ConsumerRunner(kafka, producer, {
      groupId: opts.groupId,
      newGroupStart: opts.newGroupStart,
      copartitioned: true,
      onAssigned: () => {
        this.groups.clear();
        this.waitingSince.clear();
      },
      subscriptions: [
        {
          topic: TOPICS.imGroupMembers,
          role: 'state',
          handle: async (rs: ConsumedRecord<ImGroupMembers>[]) => {
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
          },
        },
        {
          topic: TOPICS.imMessageSent,
          handle: async (rs: ConsumedRecord<ImMessageSent>[], { partition }) =>
            this.fanOut(rs, partition),
        },
      ],
    });
    this.membershipCheck = new ConsumerRunner(kafka, producer, {
      groupId: `${opts.groupId}-memberships`,
      newGroupStart: opts.newGroupStart,
      subscriptions: [
        {
          topic: TOPICS.imGroupMembers,
          handle: async (rs: ConsumedRecord<ImGroupMembers>[]) => this.checkMemberships(rs),
        },
      ],
    });
  }

  /** Dead letters for membership records whose key is not the key of the group they describe. */
  private checkMemberships(rs: ConsumedRecord<ImGroupMembers>[]): { records: OutboundRecord[] } {
    const records: OutboundRecord[] = [];
    for (const r of rs) {
      if (r.value === null) continue;
      const key = groupKey(r.value.appId, r.value.groupId);
      if (r.key === key) continue;
      const message = `the record is keyed ${JSON.stringify(r.key?.slice(0, 300) ?? null)}, not ${key}: it would be read on another partition than the group's messages`;
      this.logger.warn({
        msg: 'dead-lettering membership',
        code: 'KEY_MISMATCH',
        offset: r.offset,
      });
      records.push(deadLetterForRecord(r, { code: 'KEY_MISMATCH', message }));
    }
    return { records };
  }

  private async fanOut(
    rs: ConsumedRecord<ImMessageSent>[],
    partition: number,
  ): Promise<{ records: OutboundRecord[] }> {
    const letters: OutboundRecord[] = [];
    const reject = (r: ConsumedRecord<ImMessageSent>, code: string, message: string) => {
      this.logger.warn({ msg: 'dead-lettering message', code, reason: message, offset: r.offset });
      letters.push(deadLetterForRecord(r, { code, message }));
    };
    // Resolve every message before writing anything, so that waiting for a group's membership
    // (below) never repeats the intents of the messages before it.
    const plans: Array<{ r: ConsumedRecord<ImMessageSent>; userIds: Iterable<string> }> = [];
    const fanoutAt = this.clock().toISOString();
    for (const r of rs) {
      const m = r.value!;
      if (!this.apps.get(m.appId)) {
        reject(r, 'UNKNOWN_APP', `app ${m.appId} is not configured in PUSH_APPS_FILE`);
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
      const waitKey = `${partition}:${r.offset}`;
      if (!recipients.ok) {
        // A membership written just before the message may not be read yet: wait a little.
        const since = this.waitingSince.get(waitKey) ?? Date.now();
        this.waitingSince.set(waitKey, since);
        if (Date.now() - since < this.opts.unknownGroupGraceMs)
          throw new RetryableException(`${recipients.message}; waiting for it`);
        this.waitingSince.delete(waitKey);
        reject(r, recipients.code, recipients.message);
        continue;
      }
      this.waitingSince.delete(waitKey);
      routingMetrics.fanoutRecipients.observe(recipients.count);
      plans.push({ r, userIds: recipients.userIds });
    }
    const writer = new IntentWriter(this.producer, this.opts.chunk);
    // Kafka, not the message (its size and schema were checked above): retry the batch
    // (repeated intents are dropped by decide).
    const retry = (e: unknown) =>
      new RetryableException(`producing intents failed: ${(e as Error).message}`, { cause: e });
    for (const { r, userIds } of plans) {
      try {
        for (const userId of userIds) await writer.add(r.value!, userId, fanoutAt, r.context);
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
    return { records: letters };
  }

  async start(): Promise<void> {
    await this.runner.start();
    await this.membershipCheck.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.runner.stop(), this.membershipCheck.stop()]);
  }
}
