import { envInt } from '@app/config';
import { z } from 'zod';

/**
 * The invalidation consumer's settings. `RegistryEnvSchema` spreads this shape in (as it does the
 * database's), so they are validated at boot with the others; `invalidationSettings` reads them
 * from the service's parsed environment (defaults for any the environment does not carry).
 */
export const InvalidationEnvSchema = z.object({
  /**
   * How far ahead of this server's clock an invalidation's `providerTimestamp` (or, without one,
   * its `at`) may be. Further ahead it is dead-lettered: a timestamp in the future would make every
   * registration made until then look older than the provider's verdict.
   */
  REGISTRY_INVALIDATION_MAX_CLOCK_SKEW_SECONDS: envInt(0, 86400).default(300),
});
export type InvalidationEnv = z.infer<typeof InvalidationEnvSchema>;

export const invalidationSettings = (env: object): InvalidationEnv =>
  InvalidationEnvSchema.parse(env);
