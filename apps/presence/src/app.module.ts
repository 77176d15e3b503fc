import { Module, type DynamicModule } from '@nestjs/common';
import type { ServiceConfig } from '@app/config';
import { platformImports } from '@app/http';
import type { PresenceEnv } from './presence-env.schema';
import { PresenceModule } from './presence/presence.module';
import { presenceGroup } from './presence/presence.consumer';

@Module({})
export class PresenceAppModule {
  static forRoot(config: ServiceConfig<PresenceEnv>): DynamicModule {
    return {
      module: PresenceAppModule,
      imports: platformImports(config, {
        imports: [PresenceModule],
        consumers: [presenceGroup(config.env)],
      }),
    };
  }
}
