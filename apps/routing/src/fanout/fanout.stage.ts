import { Logger } from '@nestjs/common';
import { TOPICS, type ImGroupMembers, type ImMessageSent } from '@app/contracts';
import type { AppsRegistry } from '@app/config';
import {
  ConsumerRunner,
  deadLetterForRecord,
  RetryableException,
  type ConsumedRecord,
  type EventProducer,
  type OutboundRecord,
} from '@app/kafka';
import type { Kafka } from 'kafkajs';
import { routingMetrics } from '../routing.metrics';
import { IntentWriter } from './intent.writer';
import { resolveRecipients } from './recipients.util';

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
              const key = r.key ?? `${r.value!.appId}:group:${r.value!.groupId}`;
              if (r.value === null) this.groups.delete(key);
              else this.groups.set(key, r.value.members);
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
    for (const r of rs) {
      const m = r.value!;
      if (!this.apps.get(m.appId)) {
        reject(r, 'UNKNOWN_APP', `app ${m.appId} is not configured in PUSH_APPS_FILE`);
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
    const fanoutAt = this.clock().toISOString();
    for (const { r, userIds } of plans) {
      try {
        for (const userId of userIds) await writer.add(r.value!, userId, fanoutAt, r.context);
      } catch (e) {
        throw new RetryableException('producing intents failed', { cause: e });
      }
    }
    try {
      await writer.flush();
    } catch (e) {
      // Kafka, not the message: retry the batch (repeated intents are dropped by decide).
      throw new RetryableException('producing intents failed', { cause: e });
    }
    routingMetrics.intentsWritten.inc(writer.written);
    return { records: letters };
  }

  start(): Promise<void> {
    return this.runner.start();
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }
}
