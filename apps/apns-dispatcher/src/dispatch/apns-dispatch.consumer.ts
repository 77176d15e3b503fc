import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { AppsRegistry, InjectEnv } from '@app/config';
import { TOPICS, type ApnsRequest } from '@app/contracts';
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
import type { ApnsEnv } from '../apns-env.schema';
import { ApnsPools } from '../apns/apns-pools';
import { ApnsSender } from '../apns/apns.sender';

export const APNS_GROUP = consumerGroup('apns-dispatcher');

/**
 * APNS_CONSUMERS members of the group in one process: kafkajs fetches again only when every batch
 * of a fetch is handled, so independent consumers let one's sends overlap another's commits.
 */
export const apnsGroup = (env: ApnsEnv): KafkaGroupOptions => ({
  group: APNS_GROUP,
  groupId: env.APNS_GROUP_ID,
  instances: env.APNS_CONSUMERS,
  partitionsConsumedConcurrently: env.APNS_PARTITIONS_CONCURRENTLY,
  maxBytesPerPartition: env.APNS_MAX_BYTES_PER_PARTITION,
  sessionTimeout: env.APNS_SESSION_TIMEOUT_MS,
  // Bounds how late a parked retry partition is read again after it is due.
  maxWaitTimeInMs: 500,
});

/**
 * Consumes `push.apns.request.v1` and `push.apns.retry.v1` and sends through the APNs pools.
 * Offsets commit only after each job's outcome (or its retry record) is produced.
 */
@KafkaConsumer()
export class ApnsDispatchConsumer implements OnApplicationShutdown {
  private readonly logger = new Logger(ApnsDispatchConsumer.name);
  readonly dispatcher: BatchDispatcher<ApnsRequest>;

  constructor(
    @InjectEnv() env: ApnsEnv,
    apps: AppsRegistry,
    private readonly pools: ApnsPools,
  ) {
    const sender = new ApnsSender(pools, apps);
    this.dispatcher = new BatchDispatcher<ApnsRequest>({
      provider: 'apns',
      retryTopic: TOPICS.apnsRetry,
      send: sender.send,
      retryPolicy: new RetryPolicy({
        baseDelayMs: env.APNS_RETRY_BASE_MS,
        maxDelayMs: env.APNS_RETRY_MAX_MS,
      }),
      memory: new RecentJobs(Math.max(1, env.APNS_RECENT_JOBS_PER_PARTITION)),
      apps, // bounds the metrics' app label
    });
  }

  @OnBatch(APNS_GROUP, TOPICS.apnsRequest)
  requests(records: ConsumedRecord<ApnsRequest>[], ctx: KafkaBatchContext): Promise<HandlerResult> {
    return this.dispatcher.handleRequests(records, ctx);
  }

  @OnBatch(APNS_GROUP, TOPICS.apnsRetry)
  retries(records: ConsumedRecord<ApnsRequest>[], ctx: KafkaBatchContext): Promise<HandlerResult> {
    return this.dispatcher.handleRetries(records, ctx);
  }

  /** After the consumers stopped (their batches in flight sent and committed). */
  async onApplicationShutdown(): Promise<void> {
    await this.pools.close();
    this.logger.log('APNs pools closed');
  }
}
