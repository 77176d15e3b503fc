import type { INestApplication } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { EventProducer } from '../event.producer';
import { KafkaConsumerGroups } from './consumer-groups.registry';
import { KafkaTransport, type KafkaGroupOptions } from './kafka.transport';

/** The consumer groups a service runs (`KafkaModule.forRoot({ consumers })`). */
export const KAFKA_CONSUMER_GROUPS = Symbol('KAFKA_CONSUMER_GROUPS');

/**
 * One Nest microservice per consumer group of the service, on `KafkaTransport`. Nest registers
 * the handlers now (a topic handled twice fails here); they start with `startAllMicroservices()`,
 * which must come after `app.init()` (see `startServiceApp`).
 */
export function connectKafkaConsumers(app: INestApplication): void {
  const groups = app.get<KafkaGroupOptions[]>(KAFKA_CONSUMER_GROUPS, { strict: false });
  const kafka = app.get(Kafka, { strict: false });
  const registry = app.get(KafkaConsumerGroups, { strict: false });
  for (const opts of groups) {
    const producer = app.get<EventProducer>(opts.producer ?? EventProducer, { strict: false });
    const strategy = new KafkaTransport(
      { kafka, producer, groups: registry, resolve: (cls) => app.get(cls, { strict: false }) },
      opts,
    );
    app.connectMicroservice({ strategy });
  }
}
