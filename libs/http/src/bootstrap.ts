import { Logger as NestLogger, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import {
  buildServiceConfig,
  ConfigException,
  type BaseEnv,
  type ServiceConfig,
  type ServiceIdentity,
} from '@app/config';
import { Logger } from 'nestjs-pino';
import pino from 'pino';
import type { z } from 'zod';
import { CorrelationMiddleware } from './correlation.middleware';
import { ProblemDetailsFilter } from './problem-details.filter';

export interface BootstrapOptions<S extends z.ZodObject> {
  service: ServiceIdentity;
  envSchema?: S;
  module: (config: ServiceConfig<z.infer<S> & BaseEnv>) => DynamicModule;
  bodyLimit?: string;
}

/**
 * Reads and validates the config (a missing setting stops the process, naming it), starts the
 * HTTP server with JSON logs and problem+json errors, and shuts down cleanly on SIGTERM.
 */
export async function bootstrapService<S extends z.ZodObject>(
  opts: BootstrapOptions<S>,
): Promise<INestApplication> {
  let config: ServiceConfig<z.infer<S> & BaseEnv>;
  try {
    config = buildServiceConfig(opts.service, opts.envSchema);
  } catch (e) {
    const log = pino({ base: { service: opts.service.name } });
    if (e instanceof ConfigException) {
      log.fatal({ code: e.code, problems: e.problems }, e.message);
    } else log.fatal({ err: e }, 'cannot start');
    log.flush();
    process.exit(1);
  }
  const app = await createServiceApp(config, opts);
  await app.listen(config.httpPort, config.env.HTTP_HOST);
  app
    .get(Logger)
    .log(`${opts.service.name} listening on ${config.env.HTTP_HOST}:${config.httpPort}`);
  const timeout = config.env.SHUTDOWN_TIMEOUT_MS;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      // Nest's shutdown hooks run on the same signal; this only bounds how long they may take.
      setTimeout(() => {
        app.get(Logger).error(`shutdown took longer than ${timeout} ms; exiting`);
        process.exit(1);
      }, timeout).unref();
    });
  }
  return app;
}

/** The Nest application for a config, not yet listening (tests call this directly). */
export async function createServiceApp<S extends z.ZodObject>(
  config: ServiceConfig<z.infer<S> & BaseEnv>,
  opts: Pick<BootstrapOptions<S>, 'module' | 'bodyLimit'>,
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(opts.module(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  app.flushLogs();
  app.useBodyParser('json', {
    limit: opts.bodyLimit ?? '64kb',
    type: ['application/json', 'application/*+json'],
  });
  app.use(new CorrelationMiddleware().use.bind(new CorrelationMiddleware()));
  app.useGlobalFilters(new ProblemDetailsFilter());
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  app.disable('x-powered-by');
  NestLogger.flush();
  return app;
}
