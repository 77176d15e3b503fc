import { IdSchema, IsoDateSchema, withoutControlCharacters } from '@app/contracts';
import { z } from 'zod';
import { decodeCursor, MAX_CURSOR_LENGTH, type CursorKind } from './cursor';
import { INTERVALS, parseGroupBy, type GroupBy } from './stats-range';

/** A page holds at most this many items (`limit`), 50 unless asked. */
export const MAX_LIMIT = 500;
export const DEFAULT_LIMIT = 50;

export const AppPathSchema = z.object({ appId: IdSchema });
export const UserPathSchema = AppPathSchema.extend({ userId: IdSchema });
export const MessagePathSchema = AppPathSchema.extend({
  messageId: withoutControlCharacters(z.string().min(1).max(256)),
});
export type UserPath = z.infer<typeof UserPathSchema>;
export type MessagePath = z.infer<typeof MessagePathSchema>;
export type AppPath = z.infer<typeof AppPathSchema>;

const JOB_ID = withoutControlCharacters(z.string().min(1).max(512));
const DAY = z.iso.date();

const limit = z.coerce
  .number()
  .int()
  .min(1)
  .max(MAX_LIMIT)
  .default(DEFAULT_LIMIT)
  .describe(`Items per page, 1–${MAX_LIMIT}.`);

/** `cursor`: the `nextCursor` of the previous page of the same listing, decoded to its position. */
const cursor = (kind: CursorKind, parts: [z.ZodType<string>, ...z.ZodType<string>[]]) =>
  z
    .string()
    .max(MAX_CURSOR_LENGTH)
    .optional()
    .transform((c, ctx) => {
      if (c === undefined) return undefined;
      const decoded = decodeCursor(kind, c, parts.length);
      const position = decoded && z.tuple(parts).safeParse(decoded);
      if (!position?.success) {
        ctx.addIssue({ code: 'custom', message: 'not a nextCursor of this listing' });
        return z.NEVER;
      }
      return position.data;
    })
    .describe('The nextCursor of the previous page.');

export const MessageOutcomesQuerySchema = z.object({
  limit,
  cursor: cursor('message', [IdSchema, JOB_ID, DAY]),
});
export type MessageOutcomesQuery = z.infer<typeof MessageOutcomesQuerySchema>;

export const UserOutcomesQuerySchema = z.object({
  limit,
  cursor: cursor('user', [IsoDateSchema, JOB_ID]),
  since: IsoDateSchema.optional().describe(
    'Outcomes decided at or after this instant (default: everything kept).',
  ),
});
export type UserOutcomesQuery = z.infer<typeof UserOutcomesQuerySchema>;

export const StatsQuerySchema = z.object({
  from: IsoDateSchema.optional().describe('Start (rounded down to the interval; UTC buckets).'),
  to: IsoDateSchema.optional().describe('End, exclusive (rounded up; default now).'),
  interval: z.enum(INTERVALS).default('hour'),
  groupBy: z
    .string()
    .max(64)
    .optional()
    .transform((v, ctx): GroupBy[] => {
      const parsed = parseGroupBy(v);
      if (parsed.every((p) => typeof p === 'string')) return parsed;
      for (const e of parsed as { message: string }[]) {
        ctx.addIssue({ code: 'custom', message: e.message });
      }
      return z.NEVER;
    })
    .describe('Comma-separated: provider, status, reason (the outcome code).'),
});
export type StatsQuery = z.infer<typeof StatsQuerySchema>;
