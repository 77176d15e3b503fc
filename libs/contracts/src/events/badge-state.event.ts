import { z } from 'zod';
import { IdSchema, IsoDateSchema } from './common.schema';

/** The most pushed messages remembered per user (ROUTING_PUSH_MEMORY's cap). */
export const MAX_PUSH_MEMORY = 256;

/** One remembered push: what recall and read sync need of it, per device. */
export const PushMemorySchema = z.object({
  /** The message id's digest (16 characters of base64url SHA-256). */
  d: z.string().min(1).max(64),
  /** When it was pushed (unix seconds). */
  t: z.number().int().nonnegative(),
  /** The conversation key from the user's side (`c2c:<peer>` / `group:<id>`). */
  c: z.string().min(1).max(140),
  /** Per device that got it: the badge increment it applied (0: shown, badge unchanged). */
  v: z.record(IdSchema, z.number().int().min(0).max(999)),
  /** The APNs collapse id when the message gave its own (else it is derived from the id). */
  k: z.string().max(64).optional(),
  /**
   * Additive: 1 when its FCM form was data-only (`android.dataOnly`, the app's `fcm.dataOnly`, or
   * privacy id-only): the app showed the notification itself, so a recall is a data message.
   */
  o: z.literal(1).optional(),
});
export type PushMemory = z.infer<typeof PushMemorySchema>;

/** Routing's own changelog: the badge count per device of one user (compacted). */
export const BadgeStateSchema = z.object({
  appId: IdSchema,
  userId: IdSchema,
  updatedAt: IsoDateSchema,
  devices: z.record(z.string(), z.number().int().min(0)),
  /**
   * Additive (routing): increases with every record routing writes for the user, so that a record
   * coming back through the changelog never overwrites a newer count held in memory.
   */
  seq: z.number().int().nonnegative().optional(),
  /** Additive (routing): when each device's count was last set (the badge baseline rule). */
  pushedAt: z.record(z.string(), IsoDateSchema).optional(),
  /**
   * Additive (routing): digests of the user's most recent pushed messages, so that an intent the
   * at-least-once fan-out writes twice is pushed once, even across a restart.
   */
  recent: z.array(z.string().max(64)).max(256).optional(),
  /**
   * Additive (routing): the user's recently pushed chat messages that changed a badge or showed a
   * notification, oldest first, for recall and read sync (bounded by ROUTING_PUSH_MEMORY and
   * ROUTING_PUSH_MEMORY_SECONDS; compact keys, see docs/routing.md).
   */
  pushes: z.array(PushMemorySchema).max(MAX_PUSH_MEMORY).optional(),
  /** Additive (routing): when the user last got a read-sync push (unix seconds; the rate limit). */
  readSyncAt: z.number().int().nonnegative().optional(),
});
export type BadgeState = z.infer<typeof BadgeStateSchema>;
