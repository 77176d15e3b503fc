import {
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { ServiceConfig } from '@app/config';
import { EventProducer } from '@app/kafka';
import { DataSource } from 'typeorm';
import type { RegistryEnv } from '../registry-env.schema';
import { OutboxRelay } from './outbox.relay';
import { OutboxWriter } from './outbox.writer';

/** Runs this instance's outbox relay for the life of the application (unless switched off). */
@Injectable()
export class OutboxRelayService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly relay: OutboxRelay;

  constructor(
    dataSource: DataSource,
    producer: EventProducer,
    writer: OutboxWriter,
    private readonly config: ServiceConfig<RegistryEnv>,
  ) {
    const env = config.env;
    this.relay = new OutboxRelay(
      dataSource,
      producer,
      {
        batchSize: env.REGISTRY_OUTBOX_BATCH,
        pollMs: env.REGISTRY_OUTBOX_POLL_MS,
        retentionHours: env.REGISTRY_OUTBOX_RETENTION_HOURS,
      },
      writer,
    );
  }

  onApplicationBootstrap(): void {
    if (this.config.env.REGISTRY_OUTBOX_RELAY) this.relay.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.relay.stop();
  }
}
