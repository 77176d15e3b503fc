import { DynamicModule, Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ServiceConfig } from '@app/config';
import { Kafka } from 'kafkajs';
import { createKafkaClient } from './kafka-client.factory';
import { EventProducer } from './event.producer';
import { HEALTH_KAFKA, KafkaHealthIndicator } from './kafka.health';
import { configureKafkaSettings } from './kafka.settings';

/** The service's Kafka client, its idempotent producer and the Kafka readiness check. */
@Global()
@Module({})
export class KafkaModule implements OnApplicationShutdown {
  constructor(@Inject(EventProducer) private readonly producer: EventProducer) {}

  static forRoot(): DynamicModule {
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
        KafkaHealthIndicator,
      ],
      exports: [Kafka, EventProducer, KafkaHealthIndicator],
    };
  }

  /** Runs after every consumer stopped (they stop in beforeApplicationShutdown). */
  async onApplicationShutdown(): Promise<void> {
    await this.producer.disconnect();
  }
}
