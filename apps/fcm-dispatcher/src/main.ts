// First, before anything else loads: tracing's instrumentations patch modules as they are
// required (a no-op unless OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_TRACES_EXPORTER is set).
import { startTracing } from '../../../libs/observability/src/tracing';
startTracing('fcm-dispatcher');

import 'reflect-metadata';
import { bootstrapService } from '@app/http';
import { FcmDispatcherAppModule } from './app.module';
import { FcmEnvSchema } from './fcm-env.schema';

void bootstrapService({
  service: { name: 'fcm-dispatcher', defaultPort: 3005 },
  envSchema: FcmEnvSchema,
  module: (config) => FcmDispatcherAppModule.forRoot(config),
});
