import 'reflect-metadata';
import { bootstrapService } from '@app/http';
import { TokenRegistryAppModule } from './app.module';
import { RegistryEnvSchema } from './registry-env.schema';

void bootstrapService({
  service: { name: 'token-registry', defaultPort: 3001 },
  envSchema: RegistryEnvSchema,
  module: (config) => TokenRegistryAppModule.forRoot(config),
});
