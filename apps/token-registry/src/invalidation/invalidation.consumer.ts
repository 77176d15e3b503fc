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
  deadLetterForRecord,
  EventProducer,
  KafkaHealthIndicator,
  PoisonRecordException,
  RetryableException,
  type ConsumedRecord,
  type HandlerResult,
  type OutboundRecord,
} from '@app/kafka';
import { Kafka } from 'kafkajs';
import { isTransientDbError } from '../database/db-errors.util';
import { registryMetrics } from '../registry.metrics';
import type { RegistryEnv } from '../registry-env.schema';
import { InvalidationService } from './invalidation.service';

export const INVALIDATION_GROUP = 'token-registry-invalidation';

/**
 * Consumes `token.invalidated.v1`. Invalid records are dead-lettered by the runner, records the
 * service refuses (an environment mismatch for FCM, a timestamp in the future) here, each alone,
 * the rest of the batch applied; a database outage is retried (never dead-lettered), so no
 * invalidation is lost while PostgreSQL is away.
 */
@Injectable()
export class InvalidationConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(InvalidationConsumer.name);
  readonly runner: ConsumerRunner;

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

  private async handle(records: ConsumedRecord<TokenInvalidated>[]): Promise<HandlerResult> {
    const letters: OutboundRecord[] = [];
    for (const r of records) {
      if (r.value === null) continue; // not a compacted topic: the runner dead-letters empty values
      try {
        const result = await this.invalidations.apply(r.value);
        registryMetrics.invalidations.inc({ reason: r.value.reason, result });
      } catch (e) {
        if (e instanceof PoisonRecordException) {
          this.logger.warn({ msg: 'dead-lettering invalidation', offset: r.offset, code: e.code });
          registryMetrics.invalidations.inc({ reason: r.value.reason, result: 'refused' });
          letters.push(deadLetterForRecord(r, { code: e.code, message: e.message }));
          continue;
        }
        if (isTransientDbError(e)) {
          throw new RetryableException(`database unavailable: ${(e as Error).message}`, {
            cause: e,
          });
        }
        throw e;
      }
    }
    return { records: letters };
  }

  /**
   * Starts in the background: the HTTP API and the relay do not need this consumer, so a broker
   * that is unreachable or lacks the topic at boot delays invalidations, not the service. Once
   * running, the runner is tracked by readiness, so a consumer that crashed for good shows there.
   */
  onApplicationBootstrap(): void {
    if (!this.config.env.REGISTRY_INVALIDATION_CONSUMER) return;
    this.runner.startInBackground({ onStarted: () => this.health.track(this.runner) });
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (!this.config.env.REGISTRY_INVALIDATION_CONSUMER) return;
    await this.runner.stop();
  }
}
