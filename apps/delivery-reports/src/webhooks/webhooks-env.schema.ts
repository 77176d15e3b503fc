import { envBoolean, envInt } from '@app/config';
import { z } from 'zod';

/** The webhook settings of delivery-reports (its env schema extends it with this shape). */
export const WebhooksEnvSchema = z.object({
  /** Run the webhook consumers in this instance (false: the store and API only). */
  WEBHOOKS_ENABLED: envBoolean.default(true),
  /** Consumer group on push.outcome.v1; the retry topic's group is `<this>-retries`. */
  WEBHOOK_GROUP_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,190}$/)
    .default('delivery-reports-webhooks'),
  /**
   * Where a group that never committed starts on push.outcome.v1: `latest` (a first deployment does
   * not POST the week of outcomes the topic retains) or `earliest`.
   */
  WEBHOOK_NEW_GROUP_START: z.enum(['latest', 'earliest']).default('latest'),
  /** A delivery not acknowledged this long after it was queued is dead-lettered (≤ 7 days). */
  WEBHOOK_MAX_AGE_SECONDS: envInt(1, 7 * 86400).default(86400),
  /** First backoff ceiling after a failure (full jitter, doubling per consecutive failure). */
  WEBHOOK_RETRY_BASE_MS: envInt(10, 600_000).default(1000),
  /**
   * Backoff cap, and the longest a delivery parks its retry partition: a longer Retry-After is
   * still honoured (the webhook stays paused), its deliveries are looked at again meanwhile.
   */
  WEBHOOK_RETRY_MAX_MS: envInt(100, 3_600_000).default(300_000),
  /**
   * How long a consumer waits for a webhook's answer before it hands the delivery over to the retry
   * topic and moves on (the POST goes on until its `timeoutMs`).
   */
  WEBHOOK_HANDOFF_MS: envInt(10, 30_000).default(1000),
  /** POSTs in flight per webhook and instance at most. */
  WEBHOOK_MAX_IN_FLIGHT: envInt(1, 64).default(4),
  /** Partitions each webhook group works on at once. */
  WEBHOOK_PARTITIONS_CONCURRENTLY: envInt(1, 64).default(4),
});
export type WebhooksEnv = z.infer<typeof WebhooksEnvSchema>;
