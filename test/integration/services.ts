import { testedService } from '@app/testing';
import { ApnsEnvSchema } from '@apps/apns-dispatcher/apns-env.schema';
import { ApnsDispatcherAppModule } from '@apps/apns-dispatcher/app.module';
import { DeliveryReportsAppModule } from '@apps/delivery-reports/app.module';
import { DeliveryReportsEnvSchema } from '@apps/delivery-reports/reports-env.schema';
import { FcmDispatcherAppModule } from '@apps/fcm-dispatcher/app.module';
import { FcmEnvSchema } from '@apps/fcm-dispatcher/fcm-env.schema';
import { PresenceAppModule } from '@apps/presence/app.module';
import { PresenceEnvSchema } from '@apps/presence/presence-env.schema';
import { RoutingAppModule } from '@apps/routing/app.module';
import { RoutingEnvSchema } from '@apps/routing/routing-env.schema';
import { TokenRegistryAppModule } from '@apps/token-registry/app.module';
import { RegistryEnvSchema } from '@apps/token-registry/registry-env.schema';

/**
 * The services as tests start them in process (`startService({ ...SERVICES.routing, env })`):
 * what each `apps/<service>/src/main.ts` passes to `bootstrapService`, body limits included.
 */
export const SERVICES = {
  tokenRegistry: testedService({
    name: 'token-registry',
    schema: RegistryEnvSchema,
    module: (c) => TokenRegistryAppModule.forRoot(c),
    bodyLimit: '64kb',
  }),
  presence: testedService({
    name: 'presence',
    schema: PresenceEnvSchema,
    module: (c) => PresenceAppModule.forRoot(c),
  }),
  routing: testedService({
    name: 'routing',
    schema: RoutingEnvSchema,
    module: (c) => RoutingAppModule.forRoot(c),
    bodyLimit: '4mb',
  }),
  apnsDispatcher: testedService({
    name: 'apns-dispatcher',
    schema: ApnsEnvSchema,
    module: (c) => ApnsDispatcherAppModule.forRoot(c),
  }),
  fcmDispatcher: testedService({
    name: 'fcm-dispatcher',
    schema: FcmEnvSchema,
    module: (c) => FcmDispatcherAppModule.forRoot(c),
  }),
  deliveryReports: testedService({
    name: 'delivery-reports',
    schema: DeliveryReportsEnvSchema,
    module: (c) => DeliveryReportsAppModule.forRoot(c),
    bodyLimit: '16kb',
  }),
};
