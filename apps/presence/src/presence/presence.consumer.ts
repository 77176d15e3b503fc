import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { ServiceConfig } from '@app/config';
import { ConsumerRunner, EventProducer, KafkaHealthIndicator } from '@app/kafka';
import { Kafka } from 'kafkajs';
import type { PresenceEnv } from '../presence-env.schema';
import { presenceMetrics } from './presence.metrics';
import { createPresenceRunner } from './presence.runner';
import { PresenceService } from './presence.service';
import { PRESENCE_TOPICS, type PresenceTopics } from './presence.topics';

/**
 * Runs the presence consumer group and, once every owned partition is restored, the timer sweep.
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
    @Inject(PRESENCE_TOPICS) private readonly topics: PresenceTopics,
  ) {
    this.runner = createPresenceRunner(
      kafka,
      producer,
      presence,
      config.env.PRESENCE_CONSUMER_GROUP,
      topics,
    );
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.tick(), this.config.env.PRESENCE_SWEEP_INTERVAL_MS);
    this.runner.startInBackground({
      prepare: async () => {
        this.partitionCount = await this.fetchPartitionCount();
      },
      onStarted: () => this.health.track(this.runner),
    });
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
      const meta = await admin.fetchTopicMetadata({ topics: [this.topics.userState.name] });
      return meta.topics[0].partitions.length;
    } finally {
      await admin.disconnect();
    }
  }
}
