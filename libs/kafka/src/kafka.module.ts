import { DynamicModule, Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ServiceConfig } from '@app/config';
import { Kafka } from 'kafkajs';
import { createKafkaClient } from './kafka-client.factory';
import { EventProducer } from './event.producer';
import { HEALTH_KAFKA, KafkaHealthIndicator } from './kafka.health';
import { configureKafkaSettings } from './kafka.settings';
import { KafkaConsumerGroups } from './transport/consumer-groups.registry';
import { KAFKA_CONSUMER_GROUPS } from './transport/connect-consumers';
import type { KafkaGroupOptions } from './transport/kafka.transport';

/**
 * The service's Kafka client, its idempotent producer, the Kafka readiness check, and the consumer
 * groups it runs (each on its own `KafkaTransport`, connected by `connectKafkaConsumers`).
 */
@Global()
@Module({})
export class KafkaModule implements OnApplicationShutdown {
  constructor(@Inject(EventProducer) private readonly producer: EventProducer) {}

  static forRoot(opts: { consumers?: KafkaGroupOptions[] } = {}): DynamicModule {
    return {
      module: KafkaModule,
      imports: [TerminusModule],
      providers: [
        {
          provide: Kafka,
          useFactory: (config: ServiceConfig) => {
            configureKafkaSettings(config.env);
            return createKafkaClient(config.env, config.instanceId);
          },
          inject: [ServiceConfig],
        },
        {
          provide: HEALTH_KAFKA,
          useFactory: (config: ServiceConfig) =>
            createKafkaClient(config.env, `${config.instanceId}-health`, {
              retry: { retries: 0 },
              connectionTimeout: 2000,
              requestTimeout: 3000,
              logCreator: () => () => undefined,
            }),
          inject: [ServiceConfig],
        },
        {
          provide: EventProducer,
          useFactory: (kafka: Kafka) => new EventProducer(kafka),
          inject: [Kafka],
        },
        { provide: KAFKA_CONSUMER_GROUPS, useValue: opts.consumers ?? [] },
        KafkaConsumerGroups,
        KafkaHealthIndicator,
      ],
      exports: [Kafka, EventProducer, KafkaHealthIndicator, KafkaConsumerGroups],
    };
  }

  /** Runs after every consumer stopped (they stop in beforeApplicationShutdown). */
  async onApplicationShutdown(): Promise<void> {
    await this.producer.disconnect();
  }
}
