import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { withTimeout, type ReadinessCheck } from '@app/observability';
import { Kafka } from 'kafkajs';
import { KafkaConsumerGroups } from './transport/consumer-groups.registry';

/** A client of its own for probes: no retries, short timeouts, so a probe never outlives itself. */
export const HEALTH_KAFKA = Symbol('HEALTH_KAFKA');

/**
 * Ready when the brokers answer a metadata request, no consumer of this service has crashed, none
 * is stuck on one offset (stalled: named with group, partition, offset and cause), and every
 * consumer's state is restored.
 */
@Injectable()
export class KafkaHealthIndicator implements ReadinessCheck {
  constructor(
    @Inject(HEALTH_KAFKA) private readonly kafka: Kafka,
    private readonly indicators: HealthIndicatorService,
    private readonly groups: KafkaConsumerGroups,
  ) {}

  async isReady(): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check('kafka');
    const admin = this.kafka.admin();
    try {
      const cluster = await withTimeout(
        admin.connect().then(() => admin.describeCluster()),
        4000,
        'Kafka',
      );
      const members = this.groups.counted();
      const starting = members.filter((m) => !m.running).map((m) => m.group);
      if (starting.length) {
        return indicator.down({
          message: `consumer group(s) not running yet: ${starting.join(', ')}`,
        });
      }
      const runners = members.map((m) => m.runner);
      const crashed = runners.filter((r) => !r.isHealthy()).length;
      if (crashed) {
        return indicator.down({ message: `${crashed} consumer(s) stopped after a crash` });
      }
      const stalled = runners.flatMap((r) => r.stalledPartitions());
      if (stalled.length) {
        return indicator.down({
          message: `${stalled.length} partition(s) stalled`,
          stalled: stalled.map((p) => ({
            group: p.group,
            topic: p.topic,
            partition: p.partition,
            offset: p.offset,
            seconds: Math.round((Date.now() - p.since) / 1000),
            attempts: p.attempts,
            cause: p.cause,
          })),
        });
      }
      const restoring = runners.filter((r) => !r.isRestored()).length;
      if (restoring) return indicator.down({ message: `${restoring} consumer(s) restoring state` });
      return indicator.up({ brokers: cluster.brokers.length });
    } catch (e) {
      return indicator.down({ message: (e as Error).message });
    } finally {
      void admin.disconnect().catch(() => undefined);
    }
  }
}
