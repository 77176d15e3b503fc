import { Global, Inject, Injectable, Module } from '@nestjs/common';
import {
  HealthIndicatorService,
  TerminusModule,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import { ServiceConfig } from '@app/config';
import type { ReadinessCheck } from '@app/observability';
import type { RegistryEnv } from '../registry-env.schema';

/** What the relay tells about its rounds. */
export interface RelayRounds {
  roundFailed(e: Error): void;
  roundSucceeded(): void;
}

/**
 * The outbox relay's part of readiness: down once its rounds have failed without a success for
 * longer than KAFKA_STALL_AFTER_SECONDS (snapshots are waiting in PostgreSQL), with the cause.
 */
@Injectable()
export class OutboxHealth implements ReadinessCheck, RelayRounds {
  private failingSince: number | undefined;
  private failures = 0;
  private lastError = '';
  private readonly stallAfterMs: number;

  constructor(
    @Inject(ServiceConfig) config: ServiceConfig<RegistryEnv>,
    private readonly indicators: HealthIndicatorService,
  ) {
    this.stallAfterMs = config.env.KAFKA_STALL_AFTER_SECONDS * 1000;
  }

  roundFailed(e: Error): void {
    this.failingSince ??= Date.now();
    this.failures++;
    this.lastError = e.message.slice(0, 500);
  }

  roundSucceeded(): void {
    this.failingSince = undefined;
    this.failures = 0;
  }

  isReady(): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check('outbox');
    const since = this.failingSince;
    if (since !== undefined && Date.now() - since >= this.stallAfterMs) {
      return Promise.resolve(
        indicator.down({
          message: `the outbox relay has failed ${this.failures} round(s) in ${Math.round((Date.now() - since) / 1000)} s: ${this.lastError}`,
        }),
      );
    }
    return Promise.resolve(indicator.up());
  }
}

@Global()
@Module({ imports: [TerminusModule], providers: [OutboxHealth], exports: [OutboxHealth] })
export class OutboxHealthModule {}
