// First, before anything else loads: tracing's instrumentations patch modules as they are
// required (a no-op unless OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_TRACES_EXPORTER is set).
import { startTracing } from '../../../libs/observability/src/tracing';
startTracing('routing');

import 'reflect-metadata';
import { bootstrapService } from '@app/http';
import { RoutingAppModule } from './app.module';
import { RoutingEnvSchema } from './routing-env.schema';

void bootstrapService({
  service: { name: 'routing', defaultPort: 3003 },
  envSchema: RoutingEnvSchema,
  module: (config) => RoutingAppModule.forRoot(config),
  // A message may list up to 100,000 recipients.
  bodyLimit: '4mb',
});
