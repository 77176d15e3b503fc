import { z } from 'zod';
import { IdSchema, IsoDateSchema } from './common.schema';

/** Routing's own changelog: the badge count per device of one user (compacted). */
export const BadgeStateSchema = z.object({
  appId: IdSchema,
  userId: IdSchema,
  updatedAt: IsoDateSchema,
  devices: z.record(z.string(), z.number().int().min(0)),
});
export type BadgeState = z.infer<typeof BadgeStateSchema>;
