import { Module, type DynamicModule } from '@nestjs/common';
import type { ServiceConfig } from '@app/config';
import { platformImports } from '@app/http';
import { FcmDispatchConsumer, fcmGroup } from './dispatch/fcm-dispatch.consumer';
import type { FcmEnv } from './fcm-env.schema';
import { FcmApps } from './firebase/fcm-apps';

@Module({})
export class FcmDispatcherAppModule {
  static forRoot(config: ServiceConfig<FcmEnv>): DynamicModule {
    const env = config.env;
    return {
      module: FcmDispatcherAppModule,
      imports: platformImports(config, { consumers: [fcmGroup(env)] }),
      controllers: [FcmDispatchConsumer],
      providers: [
        // Built once at boot: a tenant whose service account cannot be read stops the start.
        {
          provide: FcmApps,
          useFactory: () => new FcmApps(config.apps, { maxSockets: env.FCM_MAX_SOCKETS }),
        },
      ],
    };
  }
}
