import 'reflect-metadata';
import { bootstrapService } from '@app/http';
import { FcmDispatcherAppModule } from './app.module';

void bootstrapService({
  service: { name: 'fcm-dispatcher', defaultPort: 3005 },
  module: (config) => FcmDispatcherAppModule.forRoot(config),
});
