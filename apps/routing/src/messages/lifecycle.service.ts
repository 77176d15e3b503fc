import { Injectable, Logger } from '@nestjs/common';
import { TOPICS, type ImConversationRead, type ImMessageRecalled } from '@app/contracts';
import { ProblemException } from '@app/http';
import { EventProducer, outbound, ProducerBusyException } from '@app/kafka';

/** Publishes recalls and reads taken over HTTP (small records: no backpressure accounting). */
@Injectable()
export class LifecycleService {
  private readonly logger = new Logger(LifecycleService.name);

  constructor(private readonly producer: EventProducer) {}

  async recall(r: ImMessageRecalled): Promise<{ messageId: string; status: 'accepted' }> {
    await this.publish(() => this.producer.send([outbound(TOPICS.imMessageRecalled, r)]));
    return { messageId: r.messageId, status: 'accepted' };
  }

  async read(r: ImConversationRead): Promise<{ status: 'accepted' }> {
    await this.publish(() => this.producer.send([outbound(TOPICS.imConversationRead, r)]));
    return { status: 'accepted' };
  }

  /** Resolves once Kafka acknowledged (acks=all); 503 with Retry-After otherwise. */
  private async publish(send: () => Promise<unknown>): Promise<void> {
    try {
      await send();
    } catch (e) {
      const busy = e instanceof ProducerBusyException;
      if (!busy) this.logger.error({ msg: 'cannot publish event', err: (e as Error).message });
      throw new ProblemException(
        503,
        busy ? 'BACKPRESSURE' : 'KAFKA_UNAVAILABLE',
        'the event could not be stored; retry',
        undefined,
        { 'Retry-After': '1' },
      );
    }
  }
}
