// First, before anything else loads: tracing's instrumentations patch modules as they are
// required (a no-op unless OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_TRACES_EXPORTER is set).
import { startTracing } from '../../../libs/observability/src/tracing';
startTracing('apns-dispatcher');

import 'reflect-metadata';
import { bootstrapService } from '@app/http';
import { ApnsEnvSchema } from './apns-env.schema';
import { ApnsDispatcherAppModule } from './app.module';

void bootstrapService({
  service: { name: 'apns-dispatcher', defaultPort: 3004 },
  envSchema: ApnsEnvSchema,
  module: (config) => ApnsDispatcherAppModule.forRoot(config),
});
