import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceConfig } from '@app/config';
import { platformImports } from '@app/http';
import type { ApnsEnv } from './apns-env.schema';
import { ApnsPools } from './apns/apns-pools';
import { ApnsDispatchService } from './dispatch/apns-dispatch.service';

@Module({})
export class ApnsDispatcherAppModule {
  static forRoot(config: ServiceConfig<ApnsEnv>): DynamicModule {
    return {
      module: ApnsDispatcherAppModule,
      imports: platformImports(config),
      providers: [
        {
          // Built once at boot: unreadable credentials stop the service with the app's name.
          provide: ApnsPools,
          useFactory: (c: ServiceConfig) => new ApnsPools(c.apps, c.env as ApnsEnv),
          inject: [ServiceConfig],
        },
        ApnsDispatchService,
      ],
    };
  }
}
