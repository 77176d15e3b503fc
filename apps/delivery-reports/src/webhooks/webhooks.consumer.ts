import type { OnApplicationShutdown } from '@nestjs/common';
import { InjectEnv, type BaseEnv, type ServiceConfig } from '@app/config';
import { TOPICS, type PushOutcome, type WebhookDelivery } from '@app/contracts';
import {
  consumerGroup,
  ensureTopics,
  KafkaBatchContext,
  KafkaConsumer,
  OnBatch,
  withAdmin,
  type ConsumedRecord,
  type HandlerResult,
  type KafkaGroupOptions,
} from '@app/kafka';
import type { Kafka } from 'kafkajs';
import { buildDeliveries } from './webhook-batcher';
import { WebhookDeliverer } from './webhook-deliverer';
import { WebhookRetries } from './webhook-retries';
import { WebhookTargets } from './webhook-targets';
import type { WebhooksEnv } from './webhooks-env.schema';

/** push.outcome.v1 in: first attempts; what is not acknowledged goes to the retry topic. */
export const WEBHOOKS_GROUP = consumerGroup('delivery-reports-webhooks');
/** push.webhook.retry.v1 in: later attempts, parked until due; dead letters after the max age. */
export const WEBHOOK_RETRIES_GROUP = consumerGroup('delivery-reports-webhook-retries');

/** The topics the webhook groups read or write: created when missing, checked at boot. */
export const WEBHOOK_TOPICS = [TOPICS.pushOutcome, TOPICS.webhookRetry, TOPICS.deadLetter];

/** Whether this instance runs the webhooks: WEBHOOKS_ENABLED and at least one app has one. */
export const webhooksActive = (config: ServiceConfig<WebhooksEnv & BaseEnv>): boolean =>
  config.env.WEBHOOKS_ENABLED && config.apps.all().some((a) => (a.webhooks ?? []).length > 0);

/**
 * The webhook consumer groups (none unless `webhooksActive`). Each has its own Kafka consumer, so
 * neither waits for the other, nor for the store's group. Readiness counts them once they run:
 * the HTTP API does not need them.
 */
export function webhookGroups(config: ServiceConfig<WebhooksEnv & BaseEnv>): KafkaGroupOptions[] {
  if (!webhooksActive(config)) return [];
  const env = config.env;
  const layout = {
    partitions: env.KAFKA_PARTITIONS,
    replicationFactor: env.KAFKA_REPLICATION_FACTOR,
  };
  const common = {
    partitionsConsumedConcurrently: env.WEBHOOK_PARTITIONS_CONCURRENTLY,
    readiness: 'running' as const,
    prepare: (kafka: Kafka) =>
      withAdmin(kafka, (admin) => ensureTopics(admin, layout, WEBHOOK_TOPICS)).then(
        () => undefined,
      ),
  };
  return [
    {
      ...common,
      group: WEBHOOKS_GROUP,
      groupId: env.WEBHOOK_GROUP_ID,
      newGroupStart: env.WEBHOOK_NEW_GROUP_START,
    },
    {
      ...common,
      group: WEBHOOK_RETRIES_GROUP,
      groupId: `${env.WEBHOOK_GROUP_ID}-retries`,
      // A parked partition is read again once the fetch in flight returns: at most this late.
      maxWaitTimeInMs: 1000,
    },
  ];
}

/** Outcomes → deliveries per app webhook → POSTed, or handed to the retry topic. */
@KafkaConsumer()
export class WebhookOutcomesConsumer implements OnApplicationShutdown {
  constructor(
    private readonly targets: WebhookTargets,
    private readonly deliverer: WebhookDeliverer,
    @InjectEnv() private readonly env: WebhooksEnv,
  ) {}

  @OnBatch(WEBHOOKS_GROUP, TOPICS.pushOutcome)
  async outcomes(
    records: ConsumedRecord<PushOutcome>[],
    _ctx: KafkaBatchContext,
  ): Promise<HandlerResult> {
    const jobs = buildDeliveries(records, this.targets, this.env.WEBHOOK_GROUP_ID);
    return { records: await this.deliverer.deliver(jobs) };
  }

  /** After the consumers stopped: POSTs still in flight (handed over already) are aborted. */
  onApplicationShutdown(): void {
    this.deliverer.close(this.targets.all());
  }
}

/** Deliveries due again → POSTed, written back with their next due time, or dead-lettered. */
@KafkaConsumer()
export class WebhookRetryConsumer {
  constructor(private readonly retries: WebhookRetries) {}

  @OnBatch(WEBHOOK_RETRIES_GROUP, TOPICS.webhookRetry)
  retry(
    records: ConsumedRecord<WebhookDelivery>[],
    ctx: KafkaBatchContext,
  ): Promise<HandlerResult> {
    return this.retries.handle(records, ctx.partition);
  }
}
