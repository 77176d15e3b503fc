import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { ServiceConfig } from '@app/config';
import { TOPICS, type TokenInvalidated } from '@app/contracts';
import {
  ConsumerRunner,
  EventProducer,
  KafkaHealthIndicator,
  RetryableException,
  type ConsumedRecord,
} from '@app/kafka';
import { Kafka } from 'kafkajs';
import { isTransientDbError } from '../database/db-errors.util';
import { registryMetrics } from '../registry.metrics';
import type { RegistryEnv } from '../registry-env.schema';
import { InvalidationService } from './invalidation.service';

export const INVALIDATION_GROUP = 'token-registry-invalidation';

/**
 * Consumes `token.invalidated.v1`. Invalid records are dead-lettered by the runner; a database
 * outage is retried (never dead-lettered), so no invalidation is lost while PostgreSQL is away.
 */
@Injectable()
export class InvalidationConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly runner: ConsumerRunner;
  private readonly logger = new Logger(InvalidationConsumer.name);
  private starting: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;

  constructor(
    kafka: Kafka,
    producer: EventProducer,
    private readonly health: KafkaHealthIndicator,
    private readonly invalidations: InvalidationService,
    private readonly config: ServiceConfig<RegistryEnv>,
  ) {
    this.runner = new ConsumerRunner(kafka, producer, {
      groupId: INVALIDATION_GROUP,
      subscriptions: [
        {
          topic: TOPICS.tokenInvalidated,
          handle: (records: ConsumedRecord<TokenInvalidated>[]) => this.handle(records),
        },
      ],
    });
  }

  private async handle(records: ConsumedRecord<TokenInvalidated>[]): Promise<void> {
    for (const r of records) {
      if (r.value === null) continue; // not a compacted topic: the runner dead-letters empty values
      try {
        const result = await this.invalidations.apply(r.value);
        registryMetrics.invalidations.inc({ reason: r.value.reason, result });
      } catch (e) {
        if (isTransientDbError(e)) {
          throw new RetryableException(`database unavailable: ${(e as Error).message}`, {
            cause: e,
          });
        }
        throw e;
      }
    }
  }

  /**
   * Starts in the background: the HTTP API and the relay do not need this consumer, so a broker
   * that is unreachable or lacks the topic at boot delays invalidations, not the service. Once
   * running, the runner is tracked by readiness, so a consumer that crashed for good shows there.
   */
  onApplicationBootstrap(): void {
    if (!this.config.env.REGISTRY_INVALIDATION_CONSUMER) return;
    this.starting = this.startWithRetry();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (!this.starting) return;
    this.stopping = true;
    this.wake?.();
    await this.starting;
    await this.runner.stop();
  }

  private async startWithRetry(): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        await this.runner.start();
        this.health.track(this.runner);
        return;
      } catch (e) {
        const retryInMs = Math.min(1000 * attempt, 10000);
        this.logger.error({
          msg: 'invalidation consumer cannot start; retrying',
          err: (e as Error).message,
          retryInMs,
        });
        await this.runner.stop().catch(() => undefined);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, retryInMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }
}
