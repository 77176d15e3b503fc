import { z } from 'zod';
import {
  ApnsEnvironmentSchema,
  ConversationKeySchema,
  DeviceTokenSchema,
  IdSchema,
  IsoDateSchema,
  PlatformSchema,
  ProviderSchema,
  SoundSchema,
  withoutControlCharacters,
} from './common.schema';

export const ReceiveOptionSchema = z.enum(['receive', 'receive_not_notify', 'receive_except_at']);
export type ReceiveOption = z.infer<typeof ReceiveOptionSchema>;

/**
 * What an APNs device token is for: `alert` (chat messages), `background`, `voip` (PushKit: calls
 * only), `liveactivity` (a Live Activity's push token: its updates only).
 */
export const ApnsPushTypeSchema = z.enum(['alert', 'background', 'voip', 'liveactivity']);

export const RegisteredDeviceSchema = z.object({
  deviceId: IdSchema,
  platform: PlatformSchema,
  provider: ProviderSchema,
  token: DeviceTokenSchema,
  topic: withoutControlCharacters(z.string().max(256)).nullish(),
  environment: ApnsEnvironmentSchema.nullish(),
  pushType: ApnsPushTypeSchema.nullish(),
  locale: z.string().max(35).nullish(),
  updatedAt: IsoDateSchema,
});
export type RegisteredDevice = z.infer<typeof RegisteredDeviceSchema>;

export const DndWindowSchema = z.object({
  startSecondOfDay: z.number().int().min(0).max(86399),
  durationSeconds: z.number().int().min(1).max(86400),
  timeZone: withoutControlCharacters(z.string().min(1).max(64)),
});

/**
 * A user's privacy mode: `id_only` sends only message and conversation ids (the app's extension
 * fetches the content); `full` sends the content; null or absent follows the app's `privacy`.
 */
export const PushPrivacySchema = z.enum(['full', 'id_only']);
export type PushPrivacy = z.infer<typeof PushPrivacySchema>;

export const PushSettingsSchema = z.object({
  pushEnabled: z.boolean(),
  hidePreview: z.boolean(),
  snoozeUntil: IsoDateSchema.nullish(),
  dnd: DndWindowSchema.nullish(),
  sounds: z.object({ c2c: SoundSchema.nullish(), group: SoundSchema.nullish() }),
  /**
   * Keys are `c2c:<peerUserId>` or `group:<groupId>`; the registry stores at most
   * `REGISTRY_MAX_CONVERSATION_OPTIONS` (default 1,000) per user.
   */
  conversations: z.record(ConversationKeySchema, ReceiveOptionSchema),
  /** Optional: snapshots written before it existed parse (and follow the app). */
  privacy: PushPrivacySchema.nullish(),
});
export type PushSettings = z.infer<typeof PushSettingsSchema>;

/** A user who never changed a setting: pushes on, previews shown, nothing muted. */
export const DEFAULT_PUSH_SETTINGS: Readonly<PushSettings> = Object.freeze({
  pushEnabled: true,
  hidePreview: false,
  snoozeUntil: null,
  dnd: null,
  sounds: Object.freeze({ c2c: null, group: null }),
  conversations: Object.freeze({}),
  privacy: null,
});

/** Tags a user may hold (`token.user-devices.v1` `tags`; issue 16). */
export const MAX_USER_TAGS = 50;
/** Attributes a user may hold (`token.user-devices.v1` `attributes`; issue 16). */
export const MAX_USER_ATTRIBUTES = 20;

/**
 * A user tag (audience of a tag push): 1–64 characters of ASCII letters, digits and `_ . : @ -`,
 * case-sensitive (`vip`, `city:berlin`, `plan.pro`).
 */
export const UserTagSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:@-]{1,64}$/, '1–64 characters of letters, digits, _ . : @ -');

/** A user's tags: at most 50, unique, sorted (ascending UTF-16 code units, i.e. ASCII order). */
export const UserTagsSchema = z
  .array(UserTagSchema)
  .max(MAX_USER_TAGS)
  .refine((tags) => tags.every((t, i) => i === 0 || tags[i - 1] < t), {
    message: 'unique and sorted',
  });

/** An attribute's name: 1–32 characters of ASCII letters, digits and `_ . -`. */
export const UserAttributeKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,32}$/, '1–32 characters of letters, digits, _ . -');

/** An attribute's value: a string of at most 128 characters without control characters. */
export const UserAttributeValueSchema = withoutControlCharacters(z.string().max(128));

/** A user's string attributes (audience of an attribute push, by equality): at most 20. */
export const UserAttributesSchema = z
  .record(UserAttributeKeySchema, UserAttributeValueSchema)
  .refine((a) => Object.keys(a).length <= MAX_USER_ATTRIBUTES, {
    message: `at most ${MAX_USER_ATTRIBUTES} attributes`,
  });

export const TokenUserDevicesSchema = z.object({
  appId: IdSchema,
  userId: IdSchema,
  version: z.number().int().nonnegative(),
  updatedAt: IsoDateSchema,
  devices: z.array(RegisteredDeviceSchema),
  settings: PushSettingsSchema,
  /** Optional (issue 16): absent = no tags; older snapshots parse. */
  tags: UserTagsSchema.optional(),
  /** Optional (issue 16): absent = no attributes; older snapshots parse. */
  attributes: UserAttributesSchema.optional(),
});
export type TokenUserDevices = z.infer<typeof TokenUserDevicesSchema>;
