import 'reflect-metadata';
import { bootstrapService } from '@app/http';
import { ApnsDispatcherAppModule } from './app.module';

void bootstrapService({
  service: { name: 'apns-dispatcher', defaultPort: 3004 },
  module: (config) => ApnsDispatcherAppModule.forRoot(config),
});
