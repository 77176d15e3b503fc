import { TOPICS, type TokenInvalidated } from '@app/contracts';
import {
  consumerGroup,
  KafkaConsumer,
  OnBatch,
  PoisonRecordException,
  RetryableException,
  type ConsumedRecord,
  type HandlerResult,
  type KafkaGroupOptions,
  type RejectedRecord,
} from '@app/kafka';
import { isTransientDbError } from '../database/db-errors.util';
import { registryMetrics } from '../registry.metrics';
import { InvalidationService } from './invalidation.service';

export const INVALIDATION_GROUP_ID = 'token-registry-invalidation';

export const INVALIDATION_GROUP = consumerGroup('token-registry-invalidation');

/**
 * The group runs unless REGISTRY_INVALIDATION_CONSUMER=false. Readiness counts it once it runs:
 * the HTTP API and the relay do not need it, so a broker that is unreachable or lacks the topic
 * at boot delays invalidations, not the service; a consumer that crashed for good shows there.
 */
export const invalidationGroup = (): KafkaGroupOptions => ({
  group: INVALIDATION_GROUP,
  groupId: INVALIDATION_GROUP_ID,
  readiness: 'running',
});

/**
 * Consumes `token.invalidated.v1`. Invalid records are dead-lettered by the runner, records the
 * service refuses (an environment mismatch for FCM, a timestamp in the future) here, each alone,
 * the rest of the batch applied; a database outage is retried (never dead-lettered), so no
 * invalidation is lost while PostgreSQL is away.
 */
@KafkaConsumer()
export class InvalidationConsumer {
  constructor(private readonly invalidations: InvalidationService) {}

  @OnBatch(INVALIDATION_GROUP, TOPICS.tokenInvalidated)
  async handle(records: ConsumedRecord<TokenInvalidated>[]): Promise<HandlerResult> {
    const rejected: RejectedRecord[] = [];
    for (const r of records) {
      try {
        const result = await this.invalidations.apply(r.value);
        registryMetrics.invalidations.inc({ reason: r.value.reason, result });
      } catch (e) {
        if (e instanceof PoisonRecordException) {
          registryMetrics.invalidations.inc({ reason: r.value.reason, result: 'refused' });
          rejected.push({ record: r, code: e.code, message: e.message });
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
    return { rejected };
  }
}
