import {
  ApnsEnvironmentSchema,
  ApnsPushTypeSchema,
  DeviceTokenSchema,
  IdSchema,
  MAX_TOKEN_LENGTH,
  PlatformSchema,
  ProviderSchema,
  type Platform,
  type Provider,
  withoutControlCharacters,
} from '@app/contracts';
import { z } from 'zod';

export const UserPathSchema = z.object({ appId: IdSchema, userId: IdSchema });
export const DevicePathSchema = UserPathSchema.extend({ deviceId: IdSchema });
export type UserPath = z.infer<typeof UserPathSchema>;
export type DevicePath = z.infer<typeof DevicePathSchema>;

/** The provider each platform's tokens belong to. */
export const PROVIDER_OF: Record<Platform, Provider> = {
  ios: 'apns',
  android: 'fcm',
  web: 'fcm',
  desktop: 'fcm',
};

/** Today's APNs tokens are 32 bytes (64 hex); Apple says the length may grow, so up to 100 bytes. */
const APNS_TOKEN = /^(?:[0-9a-fA-F]{2}){32,100}$/;
/**
 * FCM registration tokens are ~150-250 URL-safe characters. Printable ASCII only (the contract's
 * DeviceTokenSchema): a NUL was a 500 from PostgreSQL, and 1,024 characters of multi-byte UTF-8
 * could outgrow the unique index's 2,704-byte entries.
 */
const isFcmToken = (t: string): boolean => DeviceTokenSchema.safeParse(t).success;
const LOCALE = /^[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8})*$/;

const apnsOnly = ['topic', 'environment', 'pushType'] as const;

/**
 * `PUT .../devices/{deviceId}`. `provider` may be left out (it follows from the platform); given,
 * it must agree. APNs tokens are stored in lower case so that one token has one spelling.
 */
export const RegisterDeviceBodySchema = z
  .strictObject({
    platform: PlatformSchema,
    provider: ProviderSchema.optional(),
    token: z.string().min(1, 'must not be empty').max(MAX_TOKEN_LENGTH),
    topic: withoutControlCharacters(z.string().min(1).max(256)).optional(),
    environment: ApnsEnvironmentSchema.optional(),
    pushType: ApnsPushTypeSchema.optional(),
    locale: z
      .string()
      .max(35)
      .regex(LOCALE, 'a BCP 47 language tag such as en or pt-BR')
      .optional(),
  })
  .superRefine((v, ctx) => {
    const provider = PROVIDER_OF[v.platform];
    if (v.provider !== undefined && v.provider !== provider) {
      ctx.addIssue({
        code: 'custom',
        path: ['provider'],
        message: `${v.platform} devices use ${provider}, not ${v.provider}`,
      });
    }
    if (provider === 'apns' && !APNS_TOKEN.test(v.token)) {
      ctx.addIssue({
        code: 'custom',
        path: ['token'],
        message: 'an APNs device token is hex of even length, 64 to 200 characters',
      });
    }
    if (provider === 'fcm') {
      // (An over-long token is already named by the length check.)
      if (v.token.length <= MAX_TOKEN_LENGTH && !isFcmToken(v.token)) {
        ctx.addIssue({
          code: 'custom',
          path: ['token'],
          message: 'an FCM registration token is printable ASCII without white space, " or \\',
        });
      }
      for (const field of apnsOnly) {
        if (v[field] !== undefined) {
          ctx.addIssue({ code: 'custom', path: [field], message: 'only for APNs (ios) devices' });
        }
      }
    }
  })
  .transform((v) => {
    const provider = PROVIDER_OF[v.platform];
    const apns = provider === 'apns';
    return {
      platform: v.platform,
      provider,
      token: apns ? v.token.toLowerCase() : v.token,
      topic: apns ? (v.topic ?? null) : null,
      environment: apns ? (v.environment ?? 'production') : null,
      pushType: apns ? (v.pushType ?? 'alert') : null,
      locale: v.locale ?? null,
    };
  });
export type RegisterDeviceInput = z.output<typeof RegisterDeviceBodySchema>;
