import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { TOPICS, type FcmRequest } from '@app/contracts';
import { ServiceConfig } from '@app/config';
import { BatchDispatcher, RecentJobs, RetryPolicy } from '@app/dispatch';
import { ConsumerRunner, EventProducer, KafkaHealthIndicator } from '@app/kafka';
import { Kafka } from 'kafkajs';
import type { FcmEnv } from '../fcm-env.schema';
import { FcmApps } from '../firebase/fcm-apps';
import { RetryAfterTracker } from '../firebase/retry-after.tracker';
import { FcmSender } from '../sending/fcm.sender';

/**
 * Consumes `push.fcm.request.v1` and `push.fcm.retry.v1` and turns every job into an outcome
 * (plus invalidation, retry or dead letter) through the shared `BatchDispatcher`. Offsets commit
 * only with the records that answer them; with FCM_TRANSACTIONAL (default) both commit in one
 * Kafka transaction, so an outcome is visible exactly when its request is acknowledged.
 */
@Injectable()
export class FcmDispatchService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(FcmDispatchService.name);
  private readonly runner: ConsumerRunner;
  private readonly tracker = new RetryAfterTracker();
  readonly dispatcher: BatchDispatcher<FcmRequest>;

  constructor(
    config: ServiceConfig,
    @Inject(Kafka) kafka: Kafka,
    producer: EventProducer,
    private readonly health: KafkaHealthIndicator,
    private readonly apps: FcmApps,
  ) {
    const env = config.env as FcmEnv;
    const sender = new FcmSender(apps, this.tracker, {
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
      apps: config.apps, // bounds the metrics' app label
    });
    this.runner = new ConsumerRunner(kafka, producer, {
      groupId: env.FCM_GROUP_ID,
      partitionsConsumedConcurrently: env.FCM_PARTITIONS_CONCURRENTLY,
      sessionTimeout: env.FCM_SESSION_TIMEOUT_MS,
      maxBytesPerPartition: env.FCM_FETCH_MAX_BYTES_PER_PARTITION,
      transactional: env.FCM_TRANSACTIONAL ? { idPrefix: `${env.FCM_GROUP_ID}-tx` } : undefined,
      subscriptions: [
        { topic: TOPICS.fcmRequest, handle: this.dispatcher.handleRequests },
        { topic: TOPICS.fcmRetry, handle: this.dispatcher.handleRetries },
      ],
    });
  }

  /** Readiness is 503 until the consumer runs; a broker down at boot is waited for (retried). */
  onApplicationBootstrap(): void {
    this.tracker.start();
    this.health.track(this.runner);
    this.runner.startInBackground({
      onStarted: () =>
        this.logger.log({
          msg: 'FCM dispatcher consuming',
          apps: this.apps.all().map((a) => a.appId),
        }),
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.runner.stop();
    this.tracker.stop();
    await this.apps.close();
  }
}
