import { z } from 'zod';
import { IdSchema, IsoDateSchema } from './common.schema';

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
});
export type BadgeState = z.infer<typeof BadgeStateSchema>;
