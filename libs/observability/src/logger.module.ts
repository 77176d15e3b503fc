import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule as PinoLoggerModule } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { currentContext } from './record-context';
import { REDACT_PATHS } from './redact.util';

export interface LoggingOptions {
  service: string;
  level: string;
}

/** JSON logs (pino) with the correlation id of the current request or record on every line. */
@Module({})
export class LoggingModule {
  static forRoot(opts: LoggingOptions): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        PinoLoggerModule.forRoot({
          pinoHttp: {
            level: opts.level,
            base: { service: opts.service },
            redact: { paths: REDACT_PATHS, censor: '[redacted]' },
            genReqId: (req: IncomingMessage) =>
              (req.headers['x-correlation-id'] as string | undefined) ?? randomUUID(),
            mixin: () => {
              const ctx = currentContext();
              return ctx ? { correlationId: ctx.correlationId } : {};
            },
            autoLogging: {
              ignore: (req: IncomingMessage) =>
                (req.url ?? '').startsWith('/health') || req.url === '/metrics',
            },
            serializers: {
              req: (req: { id: string; method: string; url: string }) => ({
                id: req.id,
                method: req.method,
                url: req.url,
              }),
            },
          },
        }),
      ],
    };
  }
}
