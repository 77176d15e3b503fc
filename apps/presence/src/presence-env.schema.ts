import { BaseEnvSchema, envInt } from '@app/config';
import { z } from 'zod';

export const PresenceEnvSchema = BaseEnvSchema.extend({
  /** One group per deployment; tests give each app a group of its own. */
  PRESENCE_CONSUMER_GROUP: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/)
    .default('presence'),
  /** How often the IM gateways' clients send heartbeats (Tencent: every 2 minutes). */
  PRESENCE_HEARTBEAT_INTERVAL_SECONDS: envInt(1, 86400).default(120),
  /** A foreground device silent this long has lost its connection (Tencent: 400 s). */
  PRESENCE_HEARTBEAT_TIMEOUT_SECONDS: envInt(1, 86400).default(400),
  /** How often the timers of owned partitions are checked. */
  PRESENCE_SWEEP_INTERVAL_MS: envInt(100, 600000).default(5000),
  /**
   * A device's lastSeenAt is republished once it moved this far past the published one, so the
   * offline timer survives a restart to within this much (heartbeats alone publish nothing else).
   */
  PRESENCE_PERSIST_LAST_SEEN_SECONDS: envInt(1, 30 * 86400).default(21600),
  /** Devices offline this long are dropped, users left with none are tombstoned (0: never). */
  PRESENCE_FORGET_AFTER_DAYS: envInt(0, 3650).default(0),
  /** GET for a user of another instance's partition reads the compacted topic, for at most this. */
  PRESENCE_LOOKUP_TIMEOUT_MS: envInt(100, 60000).default(5000),
  /** Events dated further than this into the future are dead-lettered (they would pin a device). */
  PRESENCE_MAX_CLOCK_SKEW_SECONDS: envInt(0, 86400).default(300),
  /**
   * Devices kept per user (as the registry's REGISTRY_MAX_DEVICES_PER_USER, default 20): a new
   * device over the cap evicts another (offline ones first, least recently seen first). At most
   * 1,000, so that a whole-user snapshot (≤ ~600 bytes per device) stays below Kafka's 1 MB.
   */
  PRESENCE_MAX_DEVICES_PER_USER: envInt(1, 1000).default(20),
}).superRefine((env, ctx) => {
  // A timeout within one interval would flip every healthy device between two heartbeats.
  if (env.PRESENCE_HEARTBEAT_TIMEOUT_SECONDS <= env.PRESENCE_HEARTBEAT_INTERVAL_SECONDS) {
    ctx.addIssue({
      code: 'custom',
      path: ['PRESENCE_HEARTBEAT_TIMEOUT_SECONDS'],
      message: `must be longer than PRESENCE_HEARTBEAT_INTERVAL_SECONDS (${env.PRESENCE_HEARTBEAT_INTERVAL_SECONDS})`,
    });
  }
});
export type PresenceEnv = z.infer<typeof PresenceEnvSchema>;
