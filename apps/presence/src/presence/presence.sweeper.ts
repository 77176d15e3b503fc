import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { InjectEnv } from '@app/config';
import { BackgroundStart, KafkaConsumerGroups, withAdmin } from '@app/kafka';
import { Kafka } from 'kafkajs';
import type { PresenceEnv } from '../presence-env.schema';
import { PRESENCE_GROUP } from './presence.consumer';
import { presenceMetrics } from './presence.metrics';
import { PresenceService } from './presence.service';
import { PRESENCE_TOPICS, type PresenceTopics } from './presence.topics';

/**
 * The timer sweep (heartbeat timeouts, offline after N days), run once every owned partition is
 * restored, and the snapshot topic's partition count (which partition holds a user).
 */
@Injectable()
export class PresenceSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(PresenceSweeper.name);
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> = Promise.resolve();
  private partitionCount: number | undefined;
  private readonly counting = new BackgroundStart({
    what: 'reading the partition count',
    logger: this.logger,
  });

  constructor(
    private readonly kafka: Kafka,
    private readonly presence: PresenceService,
    private readonly groups: KafkaConsumerGroups,
    @InjectEnv() private readonly env: PresenceEnv,
    @Inject(PRESENCE_TOPICS) private readonly topics: PresenceTopics,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.tick(), this.env.PRESENCE_SWEEP_INTERVAL_MS);
    this.counting.run(
      async () => {
        this.partitionCount = await withAdmin(this.kafka, async (admin) => {
          const meta = await admin.fetchTopicMetadata({ topics: [this.topics.userState.name] });
          return meta.topics[0].partitions.length;
        });
      },
      async () => undefined,
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.counting.stop();
    await this.sweeping;
  }

  /** Partitions of the snapshot topic (the same for the event topic, which shares its key space). */
  partitions(): number {
    return this.partitionCount ?? this.env.KAFKA_PARTITIONS;
  }

  /** True once every partition this instance owns is read back from the changelog. */
  isRestored(): boolean {
    return this.groups.isRestored(PRESENCE_GROUP);
  }

  /** One sweep at a time, and none while some partition is still restoring (its state is partial). */
  private tick(): void {
    this.sweeping = this.sweeping.then(async () => {
      presenceMetrics.users.set(this.presence.store.userCount());
      if (!this.isRestored()) return;
      try {
        await this.presence.sweepAll();
      } catch (e) {
        this.logger.warn({ msg: 'sweep failed; next one retries', err: (e as Error).message });
      }
    });
  }
}
