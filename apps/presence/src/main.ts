import 'reflect-metadata';
import { bootstrapService } from '@app/http';
import { PresenceAppModule } from './app.module';

void bootstrapService({
  service: { name: 'presence', defaultPort: 3002 },
  module: (config) => PresenceAppModule.forRoot(config),
});
