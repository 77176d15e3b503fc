import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ClientKafka } from '@nestjs/microservices';
import type { RecordMetadata } from 'kafkajs';
import { lastValueFrom } from 'rxjs';
import {
  IM_TOPICS,
  membershipKey,
  messageKey,
  recordHeaders,
  traceIds,
  type ImGroupMembers,
  type ImMessageSent,
  type ImTopic,
  type TraceIds,
} from './im-events';
import { IM_KAFKA } from './im-kafka.options';

/**
 * Publishes the chat service's events for the push platform through Nest's ClientKafka.
 *
 * - `emit(topic, { key, value, headers })`: with an object that has `key` or `value`, Nest's
 *   serializer takes it as the Kafka message (a plain-object value becomes JSON). Anything else
 *   is sent as the value with no key, and kafkajs then spreads the records round-robin: the
 *   platform would see a group's messages on partitions its membership is not on.
 * - The returned observable is awaited: the promise settles when the broker acknowledged the
 *   record (acks=all), or fails; an emit nobody subscribes to loses its error.
 * - One send at a time: kafkajs's idempotent producer must not be given concurrent sends (the
 *   broker answers OUT_OF_ORDER_SEQUENCE_NUMBER), and ClientKafka calls `producer.send` once per
 *   emit, so emits are chained here.
 */
@Injectable()
export class ImEventsPublisher implements OnApplicationBootstrap {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(@Inject(IM_KAFKA) private readonly kafka: ClientKafka) {}

  /** Connects at boot, so a broker that does not answer fails the start, not the first message. */
  async onApplicationBootstrap(): Promise<void> {
    await this.kafka.connect();
  }

  publishMessage(message: ImMessageSent, ids: TraceIds = traceIds()): Promise<RecordMetadata> {
    return this.publish(IM_TOPICS.messageSent, messageKey(message), message, ids);
  }

  publishGroupMembers(
    membership: ImGroupMembers,
    ids: TraceIds = traceIds(),
  ): Promise<RecordMetadata> {
    return this.publish(IM_TOPICS.groupMembers, membershipKey(membership), membership, ids);
  }

  private publish(
    topic: ImTopic,
    key: string,
    value: object,
    ids: TraceIds,
  ): Promise<RecordMetadata> {
    const send = async () => {
      const [meta] = await lastValueFrom(
        this.kafka.emit<RecordMetadata[]>(topic, {
          key,
          value,
          headers: recordHeaders(topic, ids),
        }),
      );
      return meta;
    };
    const result = this.tail.then(send, send);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
