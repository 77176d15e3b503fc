import {
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { ServiceConfig } from '@app/config';
import { createKafkaClient, EventProducer } from '@app/kafka';
import { DataSource } from 'typeorm';
import type { RegistryEnv } from '../registry-env.schema';
import { OutboxRelay } from './outbox.relay';
import { OutboxWriter } from './outbox.writer';
import { OutboxHealth } from './outbox.health';

/**
 * A producer for the relay alone, with a short retry budget: a round against an absent broker
 * fails within seconds and rolls back, rather than outliving its row locks. A send still in flight
 * after its round gave up could land after a newer snapshot published by another relay.
 */
export function relayProducer(env: RegistryEnv, clientId: string): EventProducer {
  return new EventProducer(
    createKafkaClient(env, clientId, {
      retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1000 },
      connectionTimeout: 3000,
      requestTimeout: 10000,
    }),
  );
}

/** Runs this instance's outbox relay for the life of the application (unless switched off). */
@Injectable()
export class OutboxRelayService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly relay: OutboxRelay;

  constructor(
    dataSource: DataSource,
    writer: OutboxWriter,
    private readonly config: ServiceConfig<RegistryEnv>,
    health: OutboxHealth,
  ) {
    const env = config.env;
    this.relay = new OutboxRelay(
      dataSource,
      () => relayProducer(env, `${config.instanceId}-outbox`),
      {
        batchSize: env.REGISTRY_OUTBOX_BATCH,
        pollMs: env.REGISTRY_OUTBOX_POLL_MS,
        retentionHours: env.REGISTRY_OUTBOX_RETENTION_HOURS,
        rounds: health,
      },
      writer,
    );
  }

  onApplicationBootstrap(): void {
    if (this.config.env.REGISTRY_OUTBOX_RELAY) this.relay.start();
  }

  /** Lets the round in flight finish (publish and mark, or fail and roll back), then disconnects. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.relay.stop();
  }
}
