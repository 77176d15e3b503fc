import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { TOPICS, type FcmRequest } from '@app/contracts';
import { AppsRegistry, InjectEnv } from '@app/config';
import { BatchDispatcher, RecentJobs, RetryPolicy } from '@app/dispatch';
import {
  consumerGroup,
  KafkaBatchContext,
  KafkaConsumer,
  OnBatch,
  type ConsumedRecord,
  type HandlerResult,
  type KafkaGroupOptions,
} from '@app/kafka';
import type { FcmEnv } from '../fcm-env.schema';
import { FcmApps } from '../firebase/fcm-apps';
import { RetryAfterTracker } from '../firebase/retry-after.tracker';
import { FcmSender } from '../sending/fcm.sender';

export const FCM_GROUP = consumerGroup('fcm-dispatcher');

/**
 * With FCM_TRANSACTIONAL (default) outcomes and offsets commit in one Kafka transaction, so an
 * outcome is visible exactly when its request is acknowledged.
 */
export const fcmGroup = (env: FcmEnv): KafkaGroupOptions => ({
  group: FCM_GROUP,
  groupId: env.FCM_GROUP_ID,
  partitionsConsumedConcurrently: env.FCM_PARTITIONS_CONCURRENTLY,
  sessionTimeout: env.FCM_SESSION_TIMEOUT_MS,
  maxBytesPerPartition: env.FCM_FETCH_MAX_BYTES_PER_PARTITION,
  transactional: env.FCM_TRANSACTIONAL ? { idPrefix: `${env.FCM_GROUP_ID}-tx` } : undefined,
});

/**
 * Consumes `push.fcm.request.v1` and `push.fcm.retry.v1` and turns every job into an outcome
 * (plus invalidation, retry or dead letter) through the shared `BatchDispatcher`. Offsets commit
 * only with the records that answer them.
 */
@KafkaConsumer()
export class FcmDispatchConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(FcmDispatchConsumer.name);
  private readonly tracker = new RetryAfterTracker();
  readonly dispatcher: BatchDispatcher<FcmRequest>;

  constructor(
    @InjectEnv() env: FcmEnv,
    apps: AppsRegistry,
    private readonly fcmApps: FcmApps,
  ) {
    const sender = new FcmSender(fcmApps, this.tracker, {
      batchSize: env.FCM_BATCH_SIZE,
      batchesInFlight: env.FCM_BATCHES_IN_FLIGHT,
      sendTimeoutMs: env.FCM_SEND_TIMEOUT_MS,
      quotaMinDelayMs: env.FCM_QUOTA_MIN_DELAY_MS,
    });
    this.dispatcher = new BatchDispatcher<FcmRequest>({
      provider: 'fcm',
      retryTopic: TOPICS.fcmRetry,
      retryPolicy: new RetryPolicy({
        baseDelayMs: env.FCM_RETRY_BASE_MS,
        maxDelayMs: env.FCM_RETRY_MAX_MS,
      }),
      memory: new RecentJobs(env.FCM_JOB_MEMORY_PER_PARTITION),
      send: (requests) => sender.send(requests),
      apps, // bounds the metrics' app label
    });
  }

  onApplicationBootstrap(): void {
    this.tracker.start();
    this.logger.log({ msg: 'FCM apps loaded', apps: this.fcmApps.all().map((a) => a.appId) });
  }

  @OnBatch(FCM_GROUP, TOPICS.fcmRequest)
  requests(records: ConsumedRecord<FcmRequest>[], ctx: KafkaBatchContext): Promise<HandlerResult> {
    return this.dispatcher.handleRequests(records, ctx);
  }

  @OnBatch(FCM_GROUP, TOPICS.fcmRetry)
  retries(records: ConsumedRecord<FcmRequest>[], ctx: KafkaBatchContext): Promise<HandlerResult> {
    return this.dispatcher.handleRetries(records, ctx);
  }

  /** After the consumer stopped (its batch in flight sent and committed). */
  async onApplicationShutdown(): Promise<void> {
    this.tracker.stop();
    await this.fcmApps.close();
  }
}
