import { BaseEnvSchema, envBoolean, envInt } from '@app/config';
import { z } from 'zod';

export const FcmEnvSchema = BaseEnvSchema.extend({
  /** Messages per `sendEach` call (FCM allows at most 500). */
  FCM_BATCH_SIZE: envInt(1, 500).default(500),
  /** `sendEach` calls in flight at once across all apps: the dispatcher's concurrency bound. */
  FCM_BATCHES_IN_FLIGHT: envInt(1, 256).default(8),
  /** Connections per app and host on the legacy (HTTP/1.1) transport used with an endpoint override. */
  FCM_MAX_SOCKETS: envInt(1, 1024).default(64),
  /** A `sendEach` that has not settled by then is treated as failed (transient) for every message. */
  FCM_SEND_TIMEOUT_MS: envInt(1000, 300_000).default(30_000),
  FCM_RETRY_BASE_MS: envInt(10, 600_000).default(1000),
  FCM_RETRY_MAX_MS: envInt(100, 3_600_000).default(600_000),
  /** Google asks clients to wait at least a minute after a quota error. */
  FCM_QUOTA_MIN_DELAY_MS: envInt(0, 3_600_000).default(60_000),
  /** Kafka partitions this instance works on at once. */
  FCM_PARTITIONS_CONCURRENTLY: envInt(1, 256).default(4),
  /**
   * jobIds remembered per partition, so a redelivered batch does not resend acknowledged jobs.
   * Each entry keeps the records it produced (about 1 KB): this bounds the dispatcher's memory.
   */
  /** Consumer group (and transactional id prefix); one per deployment. */
  FCM_GROUP_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/)
    .default('fcm-dispatcher'),
  /** Bytes fetched per partition and batch: larger batches mean fewer commits per message. */
  FCM_FETCH_MAX_BYTES_PER_PARTITION: envInt(16_384, 64 * 1024 * 1024).default(1024 * 1024),
  /** How long a silent member keeps its partitions (a killed instance's move after this). */
  FCM_SESSION_TIMEOUT_MS: envInt(6000, 300_000).default(30_000),
  /** Outcomes and offsets commit in one Kafka transaction (read outcomes with read_committed). */
  FCM_TRANSACTIONAL: envBoolean.default(true),
  FCM_JOB_MEMORY_PER_PARTITION: envInt(1, 1_000_000).default(10_000),
});
export type FcmEnv = z.infer<typeof FcmEnvSchema>;
