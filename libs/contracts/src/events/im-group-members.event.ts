import { z } from 'zod';
import { IdSchema, IsoDateSchema } from './common.schema';

/**
 * Whole membership of one group, replaced on every change (compacted topic; a null value deletes
 * the group). Keyed `appId:group:groupId`, the same key as the group's messages, so that both land
 * on the same partition number.
 */
export const ImGroupMembersSchema = z.object({
  appId: IdSchema,
  groupId: IdSchema,
  version: z.number().int().nonnegative().optional(),
  updatedAt: IsoDateSchema.optional(),
  members: z.array(IdSchema).max(200000),
});
export type ImGroupMembers = z.infer<typeof ImGroupMembersSchema>;
