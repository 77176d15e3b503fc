import {
  ConversationKeySchema,
  PushPrivacySchema,
  IsoDateSchema,
  ReceiveOptionSchema,
  SoundSchema,
  withoutControlCharacters,
} from '@app/contracts';
import { z } from 'zod';

/**
 * The canonical name of a time zone the runtime knows (`europe/berlin` → `Europe/Berlin`,
 * `US/Pacific` → `America/Los_Angeles`, `Etc/UTC` → `UTC`), or undefined. Storing one spelling
 * per zone keeps routing's formatter cache small and makes equal settings compare equal.
 */
export function canonicalTimeZone(tz: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** Conversation options one request may set or clear (the stored cap is a setting). */
export const MAX_CONVERSATION_OPTIONS_PER_REQUEST = 1000;

const sound = SoundSchema.nullable().optional();

/**
 * `PUT .../settings` changes the fields it names and keeps the others, so that two clients
 * changing different settings do not overwrite each other. In `conversations`, a value sets that
 * conversation's option and `null` (or `receive`, the default) removes it.
 */
export const UpdateSettingsBodySchema = z.strictObject({
  pushEnabled: z.boolean().optional(),
  hidePreview: z.boolean().optional(),
  snoozeUntil: IsoDateSchema.nullable().optional(),
  dnd: z
    .strictObject({
      startSecondOfDay: z.number().int().min(0).max(86399),
      durationSeconds: z.number().int().min(1).max(86400),
      timeZone: withoutControlCharacters(z.string().min(1).max(64)).transform((tz, ctx) => {
        const canonical = canonicalTimeZone(tz);
        if (canonical !== undefined && canonical.length <= 64) return canonical;
        ctx.issues.push({
          code: 'custom',
          input: tz,
          message: 'an IANA time zone such as Europe/Berlin',
        });
        return z.NEVER;
      }),
    })
    .nullable()
    .optional(),
  sounds: z.strictObject({ c2c: sound, group: sound }).optional(),
  conversations: z
    .record(ConversationKeySchema, ReceiveOptionSchema.nullable())
    .refine((r) => Object.keys(r).length <= MAX_CONVERSATION_OPTIONS_PER_REQUEST, {
      message: `at most ${MAX_CONVERSATION_OPTIONS_PER_REQUEST} conversations per request`,
    })
    .optional(),
  /** `full` or `id_only`; null follows the app's `privacy` again. */
  privacy: PushPrivacySchema.nullable().optional(),
});
export type UpdateSettingsInput = z.output<typeof UpdateSettingsBodySchema>;
