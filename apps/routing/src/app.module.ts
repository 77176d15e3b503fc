import { Module, type DynamicModule } from '@nestjs/common';
import type { ServiceConfig } from '@app/config';
import { platformImports } from '@app/http';
import type { RoutingEnv } from './routing-env.schema';
import { routingGroups } from './routing.groups';
import { RoutingModule } from './routing.module';

@Module({})
export class RoutingAppModule {
  static forRoot(config: ServiceConfig<RoutingEnv>): DynamicModule {
    return {
      module: RoutingAppModule,
      imports: platformImports(config, {
        imports: [RoutingModule.forRoot(config.env)],
        consumers: routingGroups(config.env),
      }),
    };
  }
}
