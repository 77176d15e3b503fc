import { IsoDateSchema, ReceiveOptionSchema } from '@app/contracts';
import { z } from 'zod';

const isTimeZone = (tz: string): boolean => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

export const MAX_CONVERSATION_OPTIONS = 1000;

const sound = z.string().min(1).max(256).nullable().optional();

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
      timeZone: z
        .string()
        .min(1)
        .max(64)
        .refine(isTimeZone, 'an IANA time zone such as Europe/Berlin'),
    })
    .nullable()
    .optional(),
  sounds: z.strictObject({ c2c: sound, group: sound }).optional(),
  conversations: z
    .record(
      z
        .string()
        .max(300)
        .regex(/^(c2c|group):[^:\s]+$/, 'c2c:<userId> or group:<groupId>'),
      ReceiveOptionSchema.nullable(),
    )
    .refine((r) => Object.keys(r).length <= MAX_CONVERSATION_OPTIONS, {
      message: `at most ${MAX_CONVERSATION_OPTIONS} conversations per request`,
    })
    .optional(),
});
export type UpdateSettingsInput = z.output<typeof UpdateSettingsBodySchema>;
