import { z } from 'zod';
import { IdSchema, IsoDateSchema } from './common.schema';

/** The most pushed messages remembered per user (ROUTING_PUSH_MEMORY's cap). */
export const MAX_PUSH_MEMORY = 256;

/** The most devices one remembered push names (the registry's highest devices-per-user cap). */
export const MAX_PUSH_MEMORY_DEVICES = 100;

/**
 * A badge-state record is kept under this many bytes of JSON (routing drops the oldest remembered
 * pushes to fit): well under Kafka's default 1 MB `max.message.bytes`.
 */
export const MAX_BADGE_RECORD_BYTES = 256 * 1024;

/** The largest `s` (sent-to-pushed lag) kept: a year; a message sent earlier counts as sent then. */
export const MAX_SENT_LAG_SECONDS = 366 * 86400;

/** One remembered push: what recall and read sync need of it, per device. */
export const PushMemorySchema = z.object({
  /** The message id's digest (16 characters of base64url SHA-256). */
  d: z.string().min(1).max(64),
  /** When it was pushed (unix seconds). */
  t: z.number().int().nonnegative(),
  /** The conversation key from the user's side (`c2c:<peer>` / `group:<id>`). */
  c: z.string().min(1).max(140),
  /** Per device that got it: the badge increment it applied (0: shown, badge unchanged). */
  v: z
    .record(IdSchema, z.number().int().min(0).max(999))
    .refine((v) => Object.keys(v).length <= MAX_PUSH_MEMORY_DEVICES, {
      message: `at most ${MAX_PUSH_MEMORY_DEVICES} devices`,
    }),
  /** The APNs collapse id when the message gave its own (else it is derived from the id). */
  k: z.string().max(64).optional(),
  /**
   * Additive: 1 when its FCM form was data-only (`android.dataOnly`, the app's `fcm.dataOnly`, or
   * privacy id-only): the app showed the notification itself, so a recall is a data message.
   */
  o: z.literal(1).optional(),
  /**
   * Additive: how many seconds before `t` the message was sent (its `sentAt`; omitted when 0). A
   * read at `readAt` covers the pushes sent at or before it. Without it the push time counts.
   */
  s: z.number().int().min(0).max(MAX_SENT_LAG_SECONDS).optional(),
  /**
   * Additive: the conversation was read after this push (its increments are then 0, the reading
   * device is left out): 1 the other devices were told, 2 their read sync is still owed (rate
   * limit). A recall still replaces the notification; a read finds nothing more in it.
   */
  r: z.union([z.literal(1), z.literal(2)]).optional(),
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
