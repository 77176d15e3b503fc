import { Injectable, Logger } from '@nestjs/common';
import { ServiceConfig } from '@app/config';
import { TOPICS, type ImMessageSent } from '@app/contracts';
import { ProblemException } from '@app/http';
import {
  encodeOutbound,
  EventProducer,
  outbound,
  ProducerBusyException,
  RecordTooLargeException,
  type EncodedRecord,
} from '@app/kafka';
import { checkIntentFits } from '../fanout/intent-fits';
import { routingSettings } from '../routing-env.schema';

export interface PendingLimits {
  maxCount: number;
  maxBytes: number;
  maxCountPerApp: number;
  maxBytesPerApp: number;
  retryAfterSeconds: number;
}

interface Usage {
  count: number;
  bytes: number;
}

/**
 * What the messages API holds in memory: messages accepted and not yet acknowledged by Kafka, over
 * all apps and per app. `admit` refuses a message that would go beyond a cap (the caller answers
 * 503 with Retry-After); `release` gives its room back once Kafka answered either way.
 */
export class PendingMessages {
  private readonly total: Usage = { count: 0, bytes: 0 };
  private readonly perApp = new Map<string, Usage>();

  constructor(readonly limits: PendingLimits) {}

  /** Why the message cannot be admitted now, or undefined once it is counted. */
  admit(appId: string, bytes: number): string | undefined {
    const app = this.perApp.get(appId) ?? { count: 0, bytes: 0 };
    const l = this.limits;
    // One message alone is always admitted when nothing waits (a 4 MB body must be sendable
    // even with a smaller byte cap); beyond that the caps hold.
    if (this.total.count > 0) {
      if (this.total.count + 1 > l.maxCount) {
        return `${this.total.count} messages are waiting for Kafka`;
      }
      if (this.total.bytes + bytes > l.maxBytes) {
        return `${this.total.bytes} bytes of messages are waiting for Kafka`;
      }
    }
    if (app.count > 0) {
      if (app.count + 1 > l.maxCountPerApp) {
        return `${app.count} messages of app ${appId} are waiting for Kafka`;
      }
      if (app.bytes + bytes > l.maxBytesPerApp) {
        return `${app.bytes} bytes of messages of app ${appId} are waiting for Kafka`;
      }
    }
    app.count++;
    app.bytes += bytes;
    this.perApp.set(appId, app);
    this.total.count++;
    this.total.bytes += bytes;
    return undefined;
  }

  release(appId: string, bytes: number): void {
    this.total.count--;
    this.total.bytes -= bytes;
    const app = this.perApp.get(appId);
    if (!app) return;
    app.count--;
    app.bytes -= bytes;
    if (app.count <= 0) this.perApp.delete(appId);
  }

  get count(): number {
    return this.total.count;
  }

  get bytes(): number {
    return this.total.bytes;
  }

  /** Pending messages of one app. */
  countOf(appId: string): number {
    return this.perApp.get(appId)?.count ?? 0;
  }
}

/**
 * Publishes accepted messages. Each is encoded (validated and sized) on its own, so one refused
 * message never fails another request's; the producer sends one batch at a time (kafkajs's
 * idempotent producer must not get concurrent sends) and coalesces the requests that arrive
 * meanwhile. What waits for Kafka is bounded: beyond the caps the API answers 503 with Retry-After
 * instead of holding ever more requests while Kafka is slow or away.
 */
@Injectable()
export class MessagesService {
  private readonly logger = new Logger(MessagesService.name);
  readonly pending: PendingMessages;

  constructor(
    private readonly producer: EventProducer,
    config: ServiceConfig,
  ) {
    const s = routingSettings(config.env);
    this.pending = new PendingMessages({
      maxCount: s.ROUTING_MESSAGES_MAX_PENDING,
      maxBytes: s.ROUTING_MESSAGES_MAX_PENDING_BYTES,
      maxCountPerApp: s.ROUTING_MESSAGES_MAX_PENDING_PER_APP,
      maxBytesPerApp: s.ROUTING_MESSAGES_MAX_PENDING_BYTES_PER_APP,
      retryAfterSeconds: s.ROUTING_MESSAGES_RETRY_AFTER_SECONDS,
    });
  }

  /** Resolves once Kafka acknowledged the record (acks=all), so a 202 is never a lost message. */
  async accept(m: ImMessageSent): Promise<{ messageId: string; status: 'accepted' }> {
    let record: EncodedRecord;
    try {
      // Validated by the controller against the same schema: encoded without a second pass.
      record = encodeOutbound(outbound(TOPICS.imMessageSent, m, { prevalidated: true }));
      // Its intents embed it: one that fits im.message.sent.v1 may still make intents that
      // cannot fit push.intent.v1, and would only be dead-lettered after the 202.
      checkIntentFits(m, new Date().toISOString());
    } catch (e) {
      if (e instanceof RecordTooLargeException) {
        throw new ProblemException(413, 'MESSAGE_TOO_LARGE', e.message);
      }
      throw e;
    }
    const refused = this.pending.admit(m.appId, record.bytes);
    if (refused) throw this.busy(refused);
    try {
      await this.producer.sendEncoded([record]);
    } catch (e) {
      if (e instanceof ProducerBusyException) throw this.busy(e.message);
      this.logger.error({ msg: 'cannot publish message', err: (e as Error).message });
      throw new ProblemException(
        503,
        'KAFKA_UNAVAILABLE',
        'the message could not be stored; retry',
        undefined,
        { 'Retry-After': String(this.pending.limits.retryAfterSeconds) },
      );
    } finally {
      this.pending.release(m.appId, record.bytes);
    }
    return { messageId: m.messageId, status: 'accepted' };
  }

  private busy(reason: string): ProblemException {
    return new ProblemException(
      503,
      'BACKPRESSURE',
      `too many messages waiting to be stored (${reason}); retry later`,
      undefined,
      { 'Retry-After': String(this.pending.limits.retryAfterSeconds) },
    );
  }
}
