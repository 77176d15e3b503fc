import { Module, type DynamicModule } from '@nestjs/common';
import type { ServiceConfig } from '@app/config';
import { platformImports } from '@app/http';
import type { ApnsEnv } from './apns-env.schema';
import { ApnsPools } from './apns/apns-pools';
import { ApnsDispatchConsumer, apnsGroup } from './dispatch/apns-dispatch.consumer';

@Module({})
export class ApnsDispatcherAppModule {
  static forRoot(config: ServiceConfig<ApnsEnv>): DynamicModule {
    return {
      module: ApnsDispatcherAppModule,
      imports: platformImports(config, { consumers: [apnsGroup(config.env)] }),
      controllers: [ApnsDispatchConsumer],
      providers: [
        {
          // Built once at boot: unreadable credentials stop the service with the app's name.
          provide: ApnsPools,
          useFactory: () => new ApnsPools(config.apps, config.env),
        },
      ],
    };
  }
}
