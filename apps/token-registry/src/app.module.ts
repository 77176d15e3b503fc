import { Module, type DynamicModule } from '@nestjs/common';
import type { ServiceConfig } from '@app/config';
import { platformImports } from '@app/http';
import { DatabaseHealthIndicator } from './database/database.health';
import { DatabaseModule } from './database/database.module';
import { InvalidationConsumer, invalidationGroup } from './invalidation/invalidation.consumer';
import { RegistryModule } from './registry.module';
import { OutboxHealth, OutboxHealthModule } from './outbox/outbox.health';
import type { RegistryEnv } from './registry-env.schema';

@Module({})
export class TokenRegistryAppModule {
  static forRoot(config: ServiceConfig<RegistryEnv>): DynamicModule {
    const invalidations = config.env.REGISTRY_INVALIDATION_CONSUMER;
    return {
      module: TokenRegistryAppModule,
      imports: [
        ...platformImports(config, {
          readiness: [DatabaseHealthIndicator, OutboxHealth],
          imports: [DatabaseModule.forRoot(config.env), OutboxHealthModule],
          consumers: invalidations ? [invalidationGroup()] : [],
        }),
        RegistryModule,
      ],
      controllers: invalidations ? [InvalidationConsumer] : [],
    };
  }
}
