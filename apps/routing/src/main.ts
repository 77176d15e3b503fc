import 'reflect-metadata';
import { bootstrapService } from '@app/http';
import { RoutingAppModule } from './app.module';

void bootstrapService({
  service: { name: 'routing', defaultPort: 3003 },
  module: (config) => RoutingAppModule.forRoot(config),
});
