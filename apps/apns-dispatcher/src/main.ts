import 'reflect-metadata';
import { bootstrapService } from '@app/http';
import { ApnsEnvSchema } from './apns-env.schema';
import { ApnsDispatcherAppModule } from './app.module';

void bootstrapService({
  service: { name: 'apns-dispatcher', defaultPort: 3004 },
  envSchema: ApnsEnvSchema,
  module: (config) => ApnsDispatcherAppModule.forRoot(config),
});
