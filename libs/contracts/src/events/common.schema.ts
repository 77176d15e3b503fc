import { z } from 'zod';

/** Identifiers that end up in Kafka keys (`appId:userId`) must not contain the separator. */
export const IdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^:\s]+$/, 'must not contain ":" or white space');

export const IsoDateSchema = z.iso.datetime({ offset: true });

export const PlatformSchema = z.enum(['ios', 'android', 'web', 'desktop']);
export type Platform = z.infer<typeof PlatformSchema>;

export const ProviderSchema = z.enum(['apns', 'fcm']);
export type Provider = z.infer<typeof ProviderSchema>;

export const ApnsEnvironmentSchema = z.enum(['sandbox', 'production']);
export type ApnsEnvironment = z.infer<typeof ApnsEnvironmentSchema>;
