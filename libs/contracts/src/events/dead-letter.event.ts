import { z } from 'zod';
import { IsoDateSchema } from './common.schema';

export const DeadLetterSchema = z.object({
  source: z.object({
    topic: z.string(),
    partition: z.number().int(),
    offset: z.string(),
    /** The source record's key (UTF-8, else base64), cut to 1,024 characters. */
    key: z.string().nullable(),
  }),
  error: z.object({ code: z.string(), message: z.string() }),
  /**
   * The original value: UTF-8 text when it is valid UTF-8 and fits, else base64. Cut to fit the
   * dead letter topic's size limit when it cannot fit whole (`truncated`).
   */
  value: z.string().nullable(),
  valueEncoding: z.enum(['utf8', 'base64']),
  headers: z.record(z.string(), z.string()),
  at: IsoDateSchema,
  /** Set when `value` holds only the first bytes of the original. */
  truncated: z.boolean().optional(),
  /** Size of the original value in bytes (set when truncated or redacted). */
  originalBytes: z.number().int().nonnegative().optional(),
  /** SHA-256 (hex) of the original value's bytes (set when truncated or redacted). */
  sha256: z.string().optional(),
  /**
   * Device tokens in the value were replaced by `sha256:<first 16 hex digits>` (the value is then
   * the re-serialised JSON, not the original bytes); DEAD_LETTER_KEEP_TOKENS keeps them.
   */
  redacted: z.boolean().optional(),
});
export type DeadLetter = z.infer<typeof DeadLetterSchema>;
