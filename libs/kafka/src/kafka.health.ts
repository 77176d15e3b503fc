import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { withTimeout, type ReadinessCheck } from '@app/observability';
import { Kafka } from 'kafkajs';
import type { ConsumerRunner } from './consumer.runner';

/** Ready when the brokers answer a metadata request and no consumer of this service has crashed. */
@Injectable()
export class KafkaHealthIndicator implements ReadinessCheck {
  private readonly runners = new Set<ConsumerRunner>();

  constructor(
    private readonly kafka: Kafka,
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
    const admin = this.kafka.admin({ retry: { retries: 0 } });
    try {
      const cluster = await withTimeout(
        admin.connect().then(() => admin.describeCluster()),
        4000,
        'Kafka',
      );
      const crashed = [...this.runners].filter((r) => !r.isHealthy()).length;
      if (crashed)
        return indicator.down({ message: `${crashed} consumer(s) stopped after a crash` });
      return indicator.up({ brokers: cluster.brokers.length });
    } catch (e) {
      return indicator.down({ message: (e as Error).message });
    } finally {
      void admin.disconnect().catch(() => undefined);
    }
  }
}
