import { Injectable, Logger } from '@nestjs/common';
import { TOPICS, type ImMessageSent } from '@app/contracts';
import { EventProducer, outbound } from '@app/kafka';
import { ProblemException } from '@app/http';

@Injectable()
export class MessagesService {
  private readonly logger = new Logger(MessagesService.name);

  constructor(private readonly producer: EventProducer) {}

  /** Resolves once Kafka acknowledged the record (acks=all), so a 202 is never a lost message. */
  async accept(m: ImMessageSent): Promise<{ messageId: string; status: 'accepted' }> {
    try {
      await this.producer.send([outbound(TOPICS.imMessageSent, m)]);
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
}
