import type { DynamicModule } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { buildServiceConfig, type BaseEnv, type ServiceConfig } from '@app/config';
import { createServiceApp, startServiceApp } from '@app/http';
import type { z } from 'zod';

/**
 * A service as a test starts it: its name, settings schema and root module (the test passes them:
 * libraries never import an app), and the JSON body limit its `main.ts` sets.
 */
export interface TestedService<S extends z.ZodObject> {
  name: string;
  schema: S;
  module: (config: ServiceConfig<z.infer<S> & BaseEnv>) => DynamicModule;
  bodyLimit?: string;
}

export interface StartServiceOptions<S extends z.ZodObject> extends TestedService<S> {
  /** Everything the service reads (process.env is not added: spread it in when wanted). */
  env: NodeJS.ProcessEnv;
  /** Also listen on a port (0, any free one, by default); supertest needs none. */
  listen?: boolean | { port?: number; host?: string };
}

/** Names a service's schema and module once, with the types `startService` infers from. */
export const testedService = <S extends z.ZodObject>(s: TestedService<S>): TestedService<S> => s;

/**
 * The service's Nest application in this process, as `bootstrapService` builds it: config from
 * `env` (a bad setting throws, naming it), HTTP edge, `app.init()`, then its Kafka consumer groups
 * started. Closed again if any step fails.
 */
export async function startService<S extends z.ZodObject>(
  opts: StartServiceOptions<S>,
): Promise<NestExpressApplication> {
  const config = buildServiceConfig({ name: opts.name, defaultPort: 0 }, opts.schema, opts.env);
  const app = await createServiceApp(config, { module: opts.module, bodyLimit: opts.bodyLimit });
  try {
    await startServiceApp(app);
    if (opts.listen) {
      const at = opts.listen === true ? {} : opts.listen;
      await app.listen(at.port ?? 0, at.host ?? '127.0.0.1');
    }
  } catch (e) {
    await app.close().catch(() => undefined);
    throw e;
  }
  return app;
}
