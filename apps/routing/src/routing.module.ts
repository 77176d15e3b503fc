import { Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { EventProducer } from '@app/kafka';
import { Kafka } from 'kafkajs';
import { DECIDE_OPTIONS, DecideConsumer, type DecideOptions } from './decide/decide.consumer';
import { FANOUT_OPTIONS, FanoutConsumer, type FanoutOptions } from './fanout/fanout.consumer';
import { ConversationsController, MessagesController } from './messages/messages.controller';
import { LifecycleService } from './messages/lifecycle.service';
import { MessagesService } from './messages/messages.service';
import { PushesController } from './messages/pushes.controller';
import { PushesService } from './messages/pushes.service';
import type { RoutingEnv } from './routing-env.schema';
import { FANOUT_PRODUCER } from './routing.groups';

/** The fan-out's own producer, flushed once the consumers stopped. */
class FanoutProducer extends EventProducer implements OnApplicationShutdown {
  async onApplicationShutdown(): Promise<void> {
    await this.disconnect();
  }
}

/** Fan-out and decide (each when enabled), and the messages API. */
@Module({})
export class RoutingModule {
  static forRoot(env: RoutingEnv): DynamicModule {
    const fanout: FanoutOptions = {
      chunk: env.ROUTING_FANOUT_CHUNK,
      unknownGroupGraceMs: env.ROUTING_UNKNOWN_GROUP_GRACE_MS,
      recalledPerPartition: env.ROUTING_FANOUT_RECALLED,
    };
    const decide: DecideOptions = {
      dedupeWindow: env.ROUTING_DEDUPE_WINDOW,
      dedupeSeconds: env.ROUTING_DEDUPE_SECONDS,
      pushMemory: env.ROUTING_PUSH_MEMORY,
      pushMemorySeconds: env.ROUTING_PUSH_MEMORY_SECONDS,
      readSyncSeconds: env.ROUTING_READ_SYNC_SECONDS,
    };
    return {
      module: RoutingModule,
      imports: [TerminusModule],
      controllers: [
        MessagesController,
        ConversationsController,
        PushesController,
        ...(env.ROUTING_FANOUT ? [FanoutConsumer] : []),
        ...(env.ROUTING_DECIDE ? [DecideConsumer] : []),
      ],
      providers: [
        MessagesService,
        LifecycleService,
        PushesService,
        {
          provide: FANOUT_PRODUCER,
          useFactory: (kafka: Kafka) => new FanoutProducer(kafka),
          inject: [Kafka],
        },
        { provide: FANOUT_OPTIONS, useValue: fanout },
        { provide: DECIDE_OPTIONS, useValue: decide },
      ],
    };
  }
}
