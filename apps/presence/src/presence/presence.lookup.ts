import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { ServiceConfig } from '@app/config';
import type { PresenceUserState } from '@app/contracts';
import { Kafka } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import type { PresenceEnv } from '../presence-env.schema';
import { BackgroundStart } from '@app/kafka';
import { PRESENCE_TOPICS, type PresenceTopics } from './presence.topics';
import { SnapshotLookup } from './snapshot.lookup';

/** The instance's reader of the compacted snapshot topic, for users it does not own. */
@Injectable()
export class PresenceLookup implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly lookup: SnapshotLookup;
  private readonly timeoutMs: number;
  private readonly starter = new BackgroundStart({
    logger: new Logger(PresenceLookup.name),
    what: 'the lookup reader',
  });

  constructor(
    kafka: Kafka,
    config: ServiceConfig<PresenceEnv>,
    @Inject(PRESENCE_TOPICS) topics: PresenceTopics,
  ) {
    // A group of its own per process: it must hold every partition, never share them.
    const groupId = `${config.env.PRESENCE_CONSUMER_GROUP}-lookup-${config.instanceId}-${randomUUID().slice(0, 8)}`;
    this.lookup = new SnapshotLookup(kafka, topics.userState, groupId);
    this.timeoutMs = config.env.PRESENCE_LOOKUP_TIMEOUT_MS;
  }

  onApplicationBootstrap(): void {
    this.starter.run(
      () => this.lookup.start(),
      () => this.lookup.stop(),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.starter.stop();
    await this.lookup.stop();
  }

  find(key: string, partition: number): Promise<PresenceUserState | null | undefined> {
    return this.lookup.find(key, partition, this.timeoutMs);
  }
}
