import { z } from 'zod';

/**
 * Control characters (C0, DEL, C1) and lone UTF-16 surrogates. None belongs in an identifier, a
 * token, a file name or a key; PostgreSQL refuses U+0000 in `text` and `jsonb` outright (a NUL that
 * got through was a 500 at the registry), and a lone surrogate cannot be encoded as UTF-8.
 */
export const FORBIDDEN_IN_NAMES = /[\p{Cc}\p{Cs}]/u;

const NO_CONTROL = 'must not contain control characters or lone surrogates';

/** Refines a string schema: no control characters, no lone surrogate. */
export const withoutControlCharacters = <T extends z.ZodString>(s: T): T =>
  s.refine((v) => !FORBIDDEN_IN_NAMES.test(v), NO_CONTROL);

/** The longest identifier, in UTF-16 code units (≤ 128 characters, so ≤ 384 bytes of UTF-8). */
export const MAX_ID_LENGTH = 128;

/**
 * Identifiers that end up in Kafka keys (`appId:userId`) and database keys: 1–128 characters,
 * without the key separator `:`, white space, control characters or lone surrogates.
 */
export const IdSchema = z
  .string()
  .min(1)
  .max(MAX_ID_LENGTH)
  .regex(/^[^:\s\p{Cc}\p{Cs}]+$/u, 'must not contain ":", white space or control characters');

/**
 * The longest device token. The registry's unique index on (app, provider, token) is a btree,
 * whose entries are limited to 2,704 bytes (a third of an 8 kB page, less overhead): with the
 * token in printable ASCII, 1,024 characters are 1,024 bytes, and the app id is at most 384, so an
 * entry (≤ ~1,430 bytes) stays far below the limit. APNs tokens are 64–200 hex characters, FCM tokens ~150–250.
 */
export const MAX_TOKEN_LENGTH = 1024;

/**
 * A device token as carried in events: 1–1024 printable ASCII characters without white space,
 * `"` or `\` (APNs tokens are hex, FCM tokens URL-safe base64 with `:`, `-`, `_`), so a token is
 * as many bytes in JSON as it has characters.
 */
export const DeviceTokenSchema = z
  .string()
  .min(1)
  .max(MAX_TOKEN_LENGTH)
  .regex(/^[!#-[\]-~]+$/, 'printable ASCII without white space, " or \\');

/** A notification sound: a file name in the app's bundle (or `default`), 1–256 characters. */
export const SoundSchema = withoutControlCharacters(z.string().min(1).max(256));

/**
 * A conversation as a settings key: `c2c:<peer userId>` or `group:<groupId>`, the id following
 * the identifier rules (so at most 134 characters).
 */
export const ConversationKeySchema = z
  .string()
  .max(6 + MAX_ID_LENGTH)
  .regex(
    new RegExp(`^(c2c|group):[^:\\s\\p{Cc}\\p{Cs}]{1,${MAX_ID_LENGTH}}$`, 'u'),
    `c2c:<userId> or group:<groupId>, the id 1–${MAX_ID_LENGTH} characters without ":", white space or control characters`,
  );

export const IsoDateSchema = z.iso.datetime({ offset: true });

export const PlatformSchema = z.enum(['ios', 'android', 'web', 'desktop']);
export type Platform = z.infer<typeof PlatformSchema>;

export const ProviderSchema = z.enum(['apns', 'fcm']);
export type Provider = z.infer<typeof ProviderSchema>;

export const ApnsEnvironmentSchema = z.enum(['sandbox', 'production']);
export type ApnsEnvironment = z.infer<typeof ApnsEnvironmentSchema>;
