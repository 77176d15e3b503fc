import { Injectable, Logger } from '@nestjs/common';
import { TOPICS, type ImMessageSent } from '@app/contracts';
import { EventProducer, outbound } from '@app/kafka';
import { ProblemException } from '@app/http';

interface Pending {
  message: ImMessageSent;
  done: (error?: Error) => void;
}

/**
 * Publishes accepted messages. Requests that arrive while a send is in flight are sent together
 * in the next one: one produce call at a time (kafkajs's idempotent producer must not get
 * concurrent sends) without making concurrent requests wait in a line of single sends.
 */
@Injectable()
export class MessagesService {
  private readonly logger = new Logger(MessagesService.name);
  private pending: Pending[] = [];
  private sending = false;

  constructor(private readonly producer: EventProducer) {}

  /** Resolves once Kafka acknowledged the record (acks=all), so a 202 is never a lost message. */
  async accept(m: ImMessageSent): Promise<{ messageId: string; status: 'accepted' }> {
    try {
      await new Promise<void>((resolve, reject) => {
        this.pending.push({ message: m, done: (e) => (e ? reject(e) : resolve()) });
        void this.drain();
      });
    } catch (e) {
      this.logger.error({ msg: 'cannot publish message', err: (e as Error).message });
      throw new ProblemException(
        503,
        'KAFKA_UNAVAILABLE',
        'the message could not be stored; retry',
      );
    }
    return { messageId: m.messageId, status: 'accepted' };
  }

  private async drain(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.pending.length) {
        const batch = this.pending.splice(0, 500);
        try {
          await this.producer.send(batch.map((p) => outbound(TOPICS.imMessageSent, p.message)));
          batch.forEach((p) => p.done());
        } catch (e) {
          batch.forEach((p) => p.done(e as Error));
        }
      }
    } finally {
      this.sending = false;
    }
  }
}
