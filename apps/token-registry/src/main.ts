// First, before anything else loads: tracing's instrumentations patch modules as they are
// required (a no-op unless OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_TRACES_EXPORTER is set).
import { startTracing } from '../../../libs/observability/src/tracing';
startTracing('token-registry');

import 'reflect-metadata';
import { bootstrapService } from '@app/http';
import { TokenRegistryAppModule } from './app.module';
import { RegistryEnvSchema } from './registry-env.schema';

void bootstrapService({
  service: { name: 'token-registry', defaultPort: 3001 },
  envSchema: RegistryEnvSchema,
  module: (config) => TokenRegistryAppModule.forRoot(config),
  // A registration is well under 1 kB; settings with 1,000 conversation options fit in 64 kB.
  bodyLimit: '64kb',
});
