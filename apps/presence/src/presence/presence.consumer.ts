import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { ServiceConfig } from '@app/config';
import { TOPICS, type PresenceDeviceEvent, type PresenceUserState } from '@app/contracts';
import {
  ConsumerRunner,
  EventProducer,
  KafkaHealthIndicator,
  type ConsumedRecord,
} from '@app/kafka';
import { Kafka } from 'kafkajs';
import type { PresenceEnv } from '../presence-env.schema';
import { presenceMetrics } from './presence.metrics';
import { PresenceService } from './presence.service';

/**
 * The presence consumer group: device events in, co-partitioned with the compacted snapshot
 * topic, which is read back as the changelog on every assignment. Also runs the timer sweep over
 * the owned partitions once their state is restored.
 */
@Injectable()
export class PresenceConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(PresenceConsumer.name);
  readonly runner: ConsumerRunner;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> = Promise.resolve();
  private partitionCount: number | undefined;

  constructor(
    private readonly kafka: Kafka,
    producer: EventProducer,
    private readonly presence: PresenceService,
    private readonly health: KafkaHealthIndicator,
    private readonly config: ServiceConfig<PresenceEnv>,
  ) {
    this.runner = new ConsumerRunner(kafka, producer, {
      groupId: config.env.PRESENCE_CONSUMER_GROUP,
      copartitioned: true,
      onAssigned: (partitions) => presence.store.assign(partitions, Date.now()),
      subscriptions: [
        {
          topic: TOPICS.presenceUserState,
          role: 'state',
          handle: (rs: ConsumedRecord<PresenceUserState>[], { partition }) =>
            presence.onSnapshots(rs, partition),
        },
        {
          topic: TOPICS.presenceDeviceEvent,
          handle: (rs: ConsumedRecord<PresenceDeviceEvent>[], { partition }) =>
            presence.onDeviceEvents(rs, partition),
        },
      ],
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.partitionCount = await this.fetchPartitionCount();
    this.health.track(this.runner);
    await this.runner.start();
    this.timer = setInterval(() => this.tick(), this.config.env.PRESENCE_SWEEP_INTERVAL_MS);
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
    await this.runner.stop();
    this.health.untrack(this.runner);
  }

  isRestored(): boolean {
    return this.runner.isRestored();
  }

  /** Partitions of the snapshot topic (the same for the event topic, which shares its key space). */
  partitions(): number {
    return this.partitionCount ?? this.config.env.KAFKA_PARTITIONS;
  }

  /** One sweep at a time, and none while some partition is still restoring (its state is partial). */
  private tick(): void {
    this.sweeping = this.sweeping.then(async () => {
      presenceMetrics.users.set(this.presence.store.userCount());
      if (!this.runner.isRestored()) return;
      try {
        await this.presence.sweepAll();
      } catch (e) {
        this.logger.warn({ msg: 'sweep failed; next one retries', err: (e as Error).message });
      }
    });
  }

  private async fetchPartitionCount(): Promise<number> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [TOPICS.presenceUserState.name] });
      return meta.topics[0].partitions.length;
    } finally {
      await admin.disconnect();
    }
  }
}
