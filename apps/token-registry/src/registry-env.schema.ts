import { InvalidationEnvSchema } from './invalidation/invalidation.settings';
import { BaseEnvSchema, envBoolean, envInt } from '@app/config';
import { DatabaseEnvSchema, type DatabaseEnv } from '@app/database';
import { z } from 'zod';

export const RegistryEnvSchema = BaseEnvSchema.extend({
  ...DatabaseEnvSchema.shape,
  ...InvalidationEnvSchema.shape,
  /**
   * Run pending migrations when the service boots. Off by default: in Kubernetes a Job runs
   * `node dist/scripts/migrate-registry.js` (the chart's pre-install/pre-upgrade hook) before the rollout, so that pods never race each other over DDL.
   */
  REGISTRY_RUN_MIGRATIONS: envBoolean.default(false),
  /**
   * A user's devices beyond this many evict the least recently registered one. At most 100, so
   * that a user's snapshot stays well below Kafka's 1 MB record limit (docs/token-registry.md).
   */
  REGISTRY_MAX_DEVICES_PER_USER: envInt(1, 100).default(20),
  /**
   * Conversations with a receive option stored per user (a request that would store more is a
   * 400 naming `conversations`). At most 1,000, for the same reason as the device cap.
   */
  REGISTRY_MAX_CONVERSATION_OPTIONS: envInt(0, 1000).default(1000),
  /** Whether this instance runs the outbox relay (every instance may: they share the work safely). */
  REGISTRY_OUTBOX_RELAY: envBoolean.default(true),
  /** Users claimed per relay round. */
  REGISTRY_OUTBOX_BATCH: envInt(1, 5000).default(200),
  /** How often an idle relay looks for rows written by other instances. */
  REGISTRY_OUTBOX_POLL_MS: envInt(10, 60000).default(250),
  /** Published outbox rows are kept this long (for inspection), then pruned. */
  REGISTRY_OUTBOX_RETENTION_HOURS: envInt(0, 24 * 90).default(24),
  /** Whether this instance consumes `token.invalidated.v1`. */
  REGISTRY_INVALIDATION_CONSUMER: envBoolean.default(true),
});
export type RegistryEnv = z.infer<typeof RegistryEnvSchema>;

/** The database settings are shared (`@app/database`); the registry's imports go through here. */
export { DatabaseEnvSchema, type DatabaseEnv };
