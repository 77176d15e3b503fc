import 'reflect-metadata';
import { bootstrapService } from '@app/http';
import { PresenceAppModule } from './app.module';
import { PresenceEnvSchema } from './presence-env.schema';

void bootstrapService({
  service: { name: 'presence', defaultPort: 3002 },
  envSchema: PresenceEnvSchema,
  module: (config) => PresenceAppModule.forRoot(config),
});
