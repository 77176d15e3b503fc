import { Logger as NestLogger, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import {
  BaseEnvSchema,
  buildServiceConfig,
  ConfigException,
  type BaseEnv,
  type ServiceConfig,
  type ServiceIdentity,
} from '@app/config';
import { connectKafkaConsumers, kafkaSecurityOptions } from '@app/kafka';
import { Logger } from 'nestjs-pino';
import pino from 'pino';
import type { z } from 'zod';
import { bodyErrorsAsProblems, jsonBodyVerifier } from './body-guard';
import { CorrelationMiddleware } from './correlation.middleware';
import { HttpEnvSchema, httpSettings, tuneHttpServer, type HttpSettings } from './http-server';
import { ProblemDetailsFilter } from './problem-details.filter';
import { stopTracing } from '../../observability/src/tracing';
import { serveApiDocs } from './openapi';

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
  routeProcessWarnings(opts.service.name);
  let config: ServiceConfig<z.infer<S> & BaseEnv>;
  try {
    // Every service also reads the HTTP settings (timeouts, header size, JSON depth).
    const schema = (opts.envSchema ?? BaseEnvSchema).extend(HttpEnvSchema.shape) as unknown as S;
    config = buildServiceConfig(opts.service, schema);
    // Kafka TLS/SASL files are read and checked now, so a bad one stops the boot like a setting.
    kafkaSecurityOptions(config.env);
  } catch (e) {
    const log = pino({ base: { service: opts.service.name } });
    if (e instanceof ConfigException) {
      log.fatal({ code: e.code, problems: e.problems }, e.message);
    } else log.fatal({ err: e }, 'cannot start');
    log.flush();
    process.exit(1);
  }
  const app = await createServiceApp(config, opts);
  await startServiceApp(app);
  await app.listen(config.httpPort, config.env.HTTP_HOST);
  app
    .get(Logger)
    .log(`${opts.service.name} listening on ${config.env.HTTP_HOST}:${config.httpPort}`);
  const timeout = config.env.SHUTDOWN_TIMEOUT_MS;
  const logger = app.get(Logger);
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      // Consumers stop fetching, finish and commit the batch in flight, leave their groups; the
      // producer flushes; the HTTP server stops accepting. Past the timeout, exit anyway.
      logger.log(`${signal}: shutting down`);
      setTimeout(() => {
        logger.error(`shutdown took longer than ${timeout} ms; exiting`);
        process.exit(1);
      }, timeout).unref();
      app
        .close()
        // Spans still buffered are exported first (a no-op when tracing is off).
        .then(() => stopTracing())
        .then(
          () => {
            logger.log('stopped');
            process.exit(0);
          },
          (e: Error) => {
            logger.error({ msg: 'shutdown failed', err: e.message });
            process.exit(1);
          },
        );
    });
  }
  return app;
}

/**
 * Node prints process warnings as plain text on stderr; here they become JSON log lines like the
 * rest. kafkajs 2.2.4 schedules `setTimeout` with a negative delay when nothing is throttled,
 * which Node 24 reports as TimeoutNegativeWarning on every request: harmless (Node uses 1 ms,
 * as older Nodes did silently), so it is dropped rather than logged thousands of times.
 */
function routeProcessWarnings(service: string): void {
  const log = pino({ base: { service } });
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (w.name === 'TimeoutNegativeWarning') return;
    log.warn({ warning: w.name, stack: w.stack }, w.message);
  });
}

/**
 * Initialises the application (every `onModuleInit` / `onApplicationBootstrap` runs), then starts
 * its Kafka consumer groups in the background: no batch arrives before the bootstrap finished.
 */
export async function startServiceApp<A extends INestApplication>(app: A): Promise<A> {
  await app.init();
  await app.startAllMicroservices();
  return app;
}

/**
 * The Nest application for a config, its Kafka consumer groups connected but not started, not
 * listening: `startServiceApp` starts it (tests call both directly).
 */
export async function createServiceApp<E extends BaseEnv>(
  config: ServiceConfig<E>,
  opts: { module: (config: ServiceConfig<E>) => DynamicModule; bodyLimit?: string },
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(opts.module(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  app.flushLogs();
  configureHttpApp(app, httpSettings(config.env), opts.bodyLimit);
  connectKafkaConsumers(app);
  // GET /docs (index) and /docs/openapi.json: the service's OpenAPI 3.1 document.
  serveApiDocs(app, { title: config.service.name, version: 'v1' });
  NestLogger.flush();
  return app;
}

/**
 * The HTTP edge every service shares, on an Express-based Nest application created with
 * `bodyParser: false`: JSON bodies (size and depth limited, UTF-8; gzip, deflate and br decoded
 * within the same size limit), correlation ids, problem+json for every error, and the Node
 * server's timeouts and header size.
 */
export function configureHttpApp(
  app: NestExpressApplication,
  settings: HttpSettings,
  bodyLimit = '64kb',
): void {
  app.useBodyParser('json', {
    limit: bodyLimit,
    type: ['application/json', 'application/*+json'],
    // Nest's types leave `verify` out (it uses it for rawBody, which is off here).
    ...({ verify: jsonBodyVerifier(settings.HTTP_MAX_JSON_DEPTH) } as object),
  });
  app.use(bodyErrorsAsProblems);
  const correlation = new CorrelationMiddleware();
  app.use(correlation.use.bind(correlation));
  app.useGlobalFilters(new ProblemDetailsFilter());
  app.disable('x-powered-by');
  tuneHttpServer(app.getHttpServer(), settings);
}
