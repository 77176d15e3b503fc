import { Module, type DynamicModule } from '@nestjs/common';
import type { ServiceConfig } from '@app/config';
import { platformImports } from '@app/http';
import { RoutingModule } from './routing.module';
import { RoutingStateHealthIndicator } from './routing-state.health';

@Module({})
export class RoutingAppModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: RoutingAppModule,
      imports: platformImports(config, {
        readiness: [RoutingStateHealthIndicator],
        imports: [RoutingModule],
      }),
    };
  }
}
