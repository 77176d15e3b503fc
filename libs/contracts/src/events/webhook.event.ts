import { z } from 'zod';
import { IdSchema, IsoDateSchema } from './common.schema';
import { PushOutcomeSchema } from './push.event';

/** Outcomes per webhook delivery at most (the apps file's `batchMax` is capped to this). */
export const MAX_WEBHOOK_BATCH = 500;

/**
 * One webhook delivery that was not acknowledged yet (`push.webhook.retry.v1`): the outcomes of one
 * app for one of its webhooks, as they will be POSTed again, with the same `deliveryId`.
 */
export const WebhookDeliverySchema = z.object({
  /** The idempotency id of the delivery (`X-Push-Delivery-Id`), the same on every attempt. */
  deliveryId: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
  appId: IdSchema,
  /**
   * The consumer group that queued it (WEBHOOK_GROUP_ID): a deployment reading the topic under
   * another group id leaves the delivery to its own.
   */
  group: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/)
    .max(200),
  webhook: z.object({
    /** Position in the app's `webhooks` list when the delivery was made (a hint). */
    index: z.number().int().min(0).max(99),
    /** First 16 hex digits of the SHA-256 of the webhook's URL: which webhook, without the URL. */
    urlHash: z.string().regex(/^[0-9a-f]{16}$/),
  }),
  outcomes: z.array(PushOutcomeSchema).min(1).max(MAX_WEBHOOK_BATCH),
  /** When the delivery was first queued (or replayed from a dead letter): its age counts from here. */
  queuedAt: IsoDateSchema,
  /** POSTs made so far. */
  attempts: z.number().int().min(0),
  /** Not to be tried before this time. */
  notBefore: IsoDateSchema,
  /** The last attempt's failure (status or error code and a short message), for operators. */
  lastError: z.string().max(512).nullable(),
});
export type WebhookDelivery = z.infer<typeof WebhookDeliverySchema>;
