import { DynamicModule, Global, Inject, Module } from '@nestjs/common';
import type { z } from 'zod';
import { AppsRegistry } from './apps.registry';
import { BaseEnvSchema, type BaseEnv } from './base-env.schema';
import { loadAppsFile } from './load-apps-file.util';
import { loadEnv } from './load-env.util';

export const SERVICE_ENV = Symbol('SERVICE_ENV');

/**
 * Injects the service's validated settings, typed by the parameter (`@InjectEnv() env: RoutingEnv`):
 * the same object as `ServiceConfig.env`, without a cast.
 */
export const InjectEnv = (): ParameterDecorator => Inject(SERVICE_ENV);

export interface ServiceIdentity {
  /** e.g. `routing`; used for client ids, consumer groups and logs. */
  name: string;
  defaultPort: number;
}

/** Everything read from the environment and the apps file, once, at boot. */
export class ServiceConfig<E extends BaseEnv = BaseEnv> {
  constructor(
    readonly service: ServiceIdentity,
    readonly env: E,
    readonly apps: AppsRegistry,
  ) {}

  get httpPort(): number {
    return this.env.HTTP_PORT ?? this.service.defaultPort;
  }

  get instanceId(): string {
    return this.env.INSTANCE_ID ?? `${this.service.name}-${process.pid}`;
  }
}

/**
 * Builds the config before the Nest container exists, so that a missing setting stops the process
 * with a message naming it rather than a DI error.
 */
export function buildServiceConfig<S extends z.ZodObject>(
  service: ServiceIdentity,
  schema: S = BaseEnvSchema as unknown as S,
  env: NodeJS.ProcessEnv = process.env,
): ServiceConfig<z.infer<S> & BaseEnv> {
  const parsed = loadEnv(schema, env) as z.infer<S> & BaseEnv;
  const apps = new AppsRegistry(loadAppsFile(parsed.PUSH_APPS_FILE));
  return new ServiceConfig(service, parsed, apps);
}

@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: ServiceConfig, useValue: config },
        { provide: AppsRegistry, useValue: config.apps },
        { provide: SERVICE_ENV, useValue: config.env },
      ],
      exports: [ServiceConfig, AppsRegistry, SERVICE_ENV],
    };
  }
}
