// First, before anything else loads: tracing's instrumentations patch modules as they are
// required (a no-op unless OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_TRACES_EXPORTER is set).
import { startTracing } from '../../../libs/observability/src/tracing';
startTracing('presence');

import 'reflect-metadata';
import { bootstrapService } from '@app/http';
import { PresenceAppModule } from './app.module';
import { PresenceEnvSchema } from './presence-env.schema';

void bootstrapService({
  service: { name: 'presence', defaultPort: 3002 },
  envSchema: PresenceEnvSchema,
  module: (config) => PresenceAppModule.forRoot(config),
});
