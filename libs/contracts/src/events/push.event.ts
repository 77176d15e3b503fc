import { z } from 'zod';
import {
  ApnsEnvironmentSchema,
  DeviceTokenSchema,
  IdSchema,
  IsoDateSchema,
  ProviderSchema,
} from './common.schema';
import { ImMessageSentSchema } from './im-message-sent.event';
import { ConversationRefSchema } from './im-lifecycle.event';

/** One recipient of one message, written by the routing fan-out. */
export const PushIntentSchema = z.object({
  appId: IdSchema,
  userId: IdSchema,
  message: ImMessageSentSchema,
  fanoutAt: IsoDateSchema,
});
export type PushIntent = z.infer<typeof PushIntentSchema>;

/**
 * One recipient of one recall, written by the routing fan-out on the same topic as the message
 * intents (so decide sees it in order with the user's messages). Additive: `kind: "recall"`.
 */
export const RecallIntentSchema = z.object({
  kind: z.literal('recall'),
  appId: IdSchema,
  userId: IdSchema,
  recall: z.object({
    messageId: z.string().min(1).max(256),
    conversation: ConversationRefSchema,
    recalledAt: IsoDateSchema,
  }),
  fanoutAt: IsoDateSchema,
});
export type RecallIntent = z.infer<typeof RecallIntentSchema>;

/** What push.intent.v1 carries: a message intent (as before) or a recall intent. */
export const PushIntentEventSchema = z.union([RecallIntentSchema, PushIntentSchema]);
export type PushIntentEvent = z.infer<typeof PushIntentEventSchema>;

export const isRecallIntent = (v: PushIntentEvent): v is RecallIntent =>
  (v as RecallIntent).kind === 'recall';

const RequestBaseSchema = z.object({
  jobId: z.string().min(1).max(512),
  appId: IdSchema,
  userId: IdSchema,
  deviceId: IdSchema,
  messageId: z.string().min(1).max(256),
  token: DeviceTokenSchema,
  createdAt: IsoDateSchema,
  /** The message's `sentAt` (end-to-end latency: message sent → provider answer). */
  sentAt: IsoDateSchema.nullish(),
  expiresAt: IsoDateSchema,
  attempt: z.number().int().min(0),
  /** When a retry may be sent (retry topics only). */
  notBefore: IsoDateSchema.nullish(),
});

export const ApnsRequestSchema = RequestBaseSchema.extend({
  topic: z.string().min(1).max(256),
  environment: ApnsEnvironmentSchema,
  pushType: z.enum(['alert', 'background', 'voip', 'liveactivity']),
  priority: z.union([z.literal(5), z.literal(10), z.literal(1)]),
  collapseId: z.string().max(64).nullish(),
  payload: z.record(z.string(), z.unknown()),
});
export type ApnsRequest = z.infer<typeof ApnsRequestSchema>;

export const FcmRequestSchema = RequestBaseSchema.extend({
  /** An FCM HTTP v1 message without its token. */
  message: z.record(z.string(), z.unknown()),
});
export type FcmRequest = z.infer<typeof FcmRequestSchema>;

export const OutcomeStatusSchema = z.enum([
  'delivered',
  'suppressed',
  'invalid_token',
  'rejected',
  'expired',
  'failed',
]);
export type OutcomeStatus = z.infer<typeof OutcomeStatusSchema>;

export const PushOutcomeSchema = z.object({
  jobId: z.string().min(1).max(512),
  messageId: z.string().min(1).max(256),
  appId: IdSchema,
  userId: IdSchema,
  deviceId: IdSchema.nullable(),
  provider: ProviderSchema.nullable(),
  status: OutcomeStatusSchema,
  code: z.string().max(128).nullable(),
  reason: z.string().max(1024).nullable(),
  attempts: z.number().int().min(0),
  latencyMs: z.number().nonnegative().nullable(),
  at: IsoDateSchema,
});
export type PushOutcome = z.infer<typeof PushOutcomeSchema>;

export const InvalidationReasonSchema = z.enum([
  'unregistered',
  'expired_token',
  'bad_device_token',
  'environment_mismatch',
  'invalid_argument',
  'sender_id_mismatch',
]);

export const TokenInvalidatedSchema = z.object({
  appId: IdSchema,
  userId: IdSchema,
  deviceId: IdSchema,
  provider: ProviderSchema,
  token: DeviceTokenSchema,
  reason: InvalidationReasonSchema,
  /** For `environment_mismatch`: the environment in which the token did work. */
  environment: ApnsEnvironmentSchema.nullish(),
  providerTimestamp: IsoDateSchema.nullish(),
  at: IsoDateSchema,
});
export type TokenInvalidated = z.infer<typeof TokenInvalidatedSchema>;
