// First, before anything else loads: tracing's instrumentations patch modules as they are
// required (a no-op unless OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_TRACES_EXPORTER is set).
import { startTracing } from '../../../libs/observability/src/tracing';
startTracing('delivery-reports');

import 'reflect-metadata';
import { bootstrapService } from '@app/http';
import { DeliveryReportsAppModule } from './app.module';
import { DeliveryReportsEnvSchema } from './reports-env.schema';

void bootstrapService({
  service: { name: 'delivery-reports', defaultPort: 3006 },
  envSchema: DeliveryReportsEnvSchema,
  module: (config) => DeliveryReportsAppModule.forRoot(config),
  // The API reads only: no request has a body worth more than this.
  bodyLimit: '16kb',
});
