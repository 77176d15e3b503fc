import {
  ApnsEnvironmentSchema,
  ApnsPushTypeSchema,
  IdSchema,
  PlatformSchema,
  ProviderSchema,
  type Platform,
  type Provider,
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
/** FCM registration tokens are ~150-200 URL-safe characters; anything with white space is not one. */
const FCM_TOKEN = /^[^\s]{1,1024}$/;
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
    token: z.string().min(1, 'must not be empty').max(1024),
    topic: z.string().min(1).max(256).optional(),
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
      if (!FCM_TOKEN.test(v.token)) {
        ctx.addIssue({
          code: 'custom',
          path: ['token'],
          message: 'an FCM registration token has no white space',
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
