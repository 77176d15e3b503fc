import { Module, type DynamicModule } from '@nestjs/common';
import { ClientsModule, Transport } from '@nestjs/microservices';
import { ImController } from './im.controller';
import { ImEventsPublisher } from './im-events.publisher';
import { IM_KAFKA, imKafkaOptions, type UpstreamSettings } from './im-kafka.options';

/** The example upstream: its Kafka client, the publisher and a controller that uses it. */
@Module({})
export class UpstreamModule {
  static forRoot(settings: UpstreamSettings): DynamicModule {
    return {
      module: UpstreamModule,
      imports: [
        ClientsModule.register([
          { name: IM_KAFKA, transport: Transport.KAFKA, options: imKafkaOptions(settings) },
        ]),
      ],
      controllers: [ImController],
      providers: [ImEventsPublisher],
      exports: [ImEventsPublisher],
    };
  }
}
