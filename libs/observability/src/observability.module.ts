import { DynamicModule, Module, type Type } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { collectDefaultMetrics, register } from 'prom-client';
import { HealthController } from './health.controller';
import { LoggingModule } from './logger.module';
import { MetricsController } from './metrics.controller';
import { READINESS_CHECKS, type ReadinessCheck } from './readiness-check';

export interface ObservabilityOptions {
  service: string;
  logLevel: string;
  /** Providers (from imported modules) that `/health/ready` asks. */
  readiness: Type<ReadinessCheck>[];
  imports?: DynamicModule['imports'];
}

let defaultMetricsStarted = false;

/** Logs, `/metrics` and `/health/{live,ready}` for one service. */
@Module({})
export class ObservabilityModule {
  static forRoot(opts: ObservabilityOptions): DynamicModule {
    if (!defaultMetricsStarted) {
      register.setDefaultLabels({ service: opts.service });
      collectDefaultMetrics();
      defaultMetricsStarted = true;
    }
    return {
      module: ObservabilityModule,
      imports: [
        LoggingModule.forRoot({ service: opts.service, level: opts.logLevel }),
        TerminusModule.forRoot({
          errorLogStyle: 'json',
          gracefulShutdownTimeoutMs: 0,
          logger: false,
        }),
        ...(opts.imports ?? []),
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        {
          provide: READINESS_CHECKS,
          useFactory: (...checks: ReadinessCheck[]) => checks,
          inject: opts.readiness,
        },
      ],
    };
  }
}
