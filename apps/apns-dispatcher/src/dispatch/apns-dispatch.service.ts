import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { ServiceConfig } from '@app/config';
import { TOPICS, type ApnsRequest } from '@app/contracts';
import { BatchDispatcher, RecentJobs, RetryPolicy } from '@app/dispatch';
import { ConsumerRunner, EventProducer, KafkaHealthIndicator } from '@app/kafka';
import { Kafka } from 'kafkajs';
import type { ApnsEnv } from '../apns-env.schema';
import { ApnsPools } from '../apns/apns-pools';
import { ApnsSender } from '../apns/apns.sender';

/**
 * Consumes `push.apns.request.v1` and `push.apns.retry.v1` and sends through the APNs pools.
 * Offsets commit only after each job's outcome (or its retry record) is produced.
 */
@Injectable()
export class ApnsDispatchService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ApnsDispatchService.name);
  readonly dispatcher: BatchDispatcher<ApnsRequest>;
  private readonly runners: ConsumerRunner[];

  constructor(
    @Inject(ServiceConfig) config: ServiceConfig,
    @Inject(Kafka) kafka: Kafka,
    @Inject(EventProducer) producer: EventProducer,
    @Inject(KafkaHealthIndicator) private readonly health: KafkaHealthIndicator,
    @Inject(ApnsPools) private readonly pools: ApnsPools,
  ) {
    const env = config.env as ApnsEnv;
    const sender = new ApnsSender(pools, config.apps);
    this.dispatcher = new BatchDispatcher<ApnsRequest>({
      provider: 'apns',
      retryTopic: TOPICS.apnsRetry,
      send: sender.send,
      retryPolicy: new RetryPolicy({
        baseDelayMs: env.APNS_RETRY_BASE_MS,
        maxDelayMs: env.APNS_RETRY_MAX_MS,
      }),
      memory: new RecentJobs(Math.max(1, env.APNS_RECENT_JOBS_PER_PARTITION)),
      apps: config.apps, // bounds the metrics' app label
    });
    // Several members of the group in one process: kafkajs fetches again only when every batch of
    // a fetch is handled, so independent consumers let one's sends overlap another's commits.
    this.runners = Array.from(
      { length: env.APNS_CONSUMERS },
      () =>
        new ConsumerRunner(kafka, producer, {
          groupId: env.APNS_GROUP_ID,
          partitionsConsumedConcurrently: env.APNS_PARTITIONS_CONCURRENTLY,
          maxBytesPerPartition: env.APNS_MAX_BYTES_PER_PARTITION,
          sessionTimeout: env.APNS_SESSION_TIMEOUT_MS,
          // Bounds how late a parked retry partition is read again after it is due.
          maxWaitTimeInMs: 500,
          subscriptions: [
            { topic: TOPICS.apnsRequest, handle: this.dispatcher.handleRequests },
            { topic: TOPICS.apnsRetry, handle: this.dispatcher.handleRetries },
          ],
        }),
    );
  }

  /** Readiness is 503 until the consumers run; a broker down at boot is waited for (retried). */
  onApplicationBootstrap(): void {
    for (const r of this.runners) {
      this.health.track(r);
      r.startInBackground({
        onStarted: () => this.logger.log('consuming APNs requests and retries'),
      });
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.stop()));
    this.runners.forEach((r) => this.health.untrack(r));
    await this.pools.close();
  }
}
