import { z } from 'zod';
import { IsoDateSchema } from './common.schema';

export const DeadLetterSchema = z.object({
  source: z.object({
    topic: z.string(),
    partition: z.number().int(),
    offset: z.string(),
    key: z.string().nullable(),
  }),
  error: z.object({ code: z.string(), message: z.string() }),
  /** The original value, verbatim: UTF-8 text, or base64 when it was not valid UTF-8. */
  value: z.string().nullable(),
  valueEncoding: z.enum(['utf8', 'base64']),
  headers: z.record(z.string(), z.string()),
  at: IsoDateSchema,
});
export type DeadLetter = z.infer<typeof DeadLetterSchema>;
