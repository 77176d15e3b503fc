import 'reflect-metadata';
import { bootstrapService } from '@app/http';
import { FcmDispatcherAppModule } from './app.module';
import { FcmEnvSchema } from './fcm-env.schema';

void bootstrapService({
  service: { name: 'fcm-dispatcher', defaultPort: 3005 },
  envSchema: FcmEnvSchema,
  module: (config) => FcmDispatcherAppModule.forRoot(config),
});
