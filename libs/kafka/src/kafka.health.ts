import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { withTimeout, type ReadinessCheck } from '@app/observability';
import { Kafka } from 'kafkajs';
import type { ConsumerRunner } from './consumer.runner';

/** A client of its own for probes: no retries, short timeouts, so a probe never outlives itself. */
export const HEALTH_KAFKA = Symbol('HEALTH_KAFKA');

/** Ready when the brokers answer a metadata request and no consumer of this service has crashed. */
@Injectable()
export class KafkaHealthIndicator implements ReadinessCheck {
  private readonly runners = new Set<ConsumerRunner>();

  constructor(
    @Inject(HEALTH_KAFKA) private readonly kafka: Kafka,
    private readonly indicators: HealthIndicatorService,
  ) {}

  track(runner: ConsumerRunner): void {
    this.runners.add(runner);
  }

  untrack(runner: ConsumerRunner): void {
    this.runners.delete(runner);
  }

  async isReady(): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check('kafka');
    const admin = this.kafka.admin();
    try {
      const cluster = await withTimeout(
        admin.connect().then(() => admin.describeCluster()),
        4000,
        'Kafka',
      );
      const crashed = [...this.runners].filter((r) => !r.isHealthy()).length;
      if (crashed)
        return indicator.down({ message: `${crashed} consumer(s) stopped after a crash` });
      const restoring = [...this.runners].filter((r) => !r.isRestored()).length;
      if (restoring) return indicator.down({ message: `${restoring} consumer(s) restoring state` });
      return indicator.up({ brokers: cluster.brokers.length });
    } catch (e) {
      return indicator.down({ message: (e as Error).message });
    } finally {
      void admin.disconnect().catch(() => undefined);
    }
  }
}
