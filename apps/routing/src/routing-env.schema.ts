import { BaseEnvSchema, envBoolean, envInt } from '@app/config';
import { z } from 'zod';

/** Routing's own settings (each has a default). */
export const RoutingSettingsSchema = z.object({
  /** Whether this instance runs the fan-out stage. */
  ROUTING_FANOUT: envBoolean.default(true),
  /** Whether this instance runs the decide stage. */
  ROUTING_DECIDE: envBoolean.default(true),
  /** Intents per produce call while a message fans out (bounds memory for a large group). */
  ROUTING_FANOUT_CHUNK: envInt(1, 100000).default(2000),
  /**
   * How long a group message whose group has no membership record yet waits (the membership may
   * have been written just before it) before it is dead-lettered as UNKNOWN_GROUP.
   */
  ROUTING_UNKNOWN_GROUP_GRACE_MS: envInt(0, 600000).default(10000),
  /** Pushed messages remembered per user (in the badge changelog) to drop repeated intents. */
  ROUTING_DEDUPE_WINDOW: envInt(0, 256).default(16),
  /**
   * …and those pushed within this many seconds, up to 256 per user: a fan-out that crashed repeats
   * its uncommitted intents once it is back (a session timeout and a restart later), and a busy
   * user may have got more than ROUTING_DEDUPE_WINDOW other messages in between.
   */
  ROUTING_DEDUPE_SECONDS: envInt(0, 86400).default(600),
  /**
   * Recently pushed chat messages remembered per user (with their badge increments per device),
   * for recall and read sync; 0 remembers none (a recall then only stops late intents).
   */
  ROUTING_PUSH_MEMORY: envInt(0, 256).default(16),
  /** …and only those pushed within this many seconds (7 days: the default message TTL). */
  ROUTING_PUSH_MEMORY_SECONDS: envInt(60, 28 * 86400).default(7 * 86400),
  /**
   * At most one read-sync push per user per this many seconds; a read inside the interval lowers
   * the badge at once and its sync goes out with the user's next read after it (docs/routing.md).
   */
  ROUTING_READ_SYNC_SECONDS: envInt(0, 3600).default(10),
  /** Recalled message ids the fan-out remembers per partition (a message read after its recall is not fanned out). */
  ROUTING_FANOUT_RECALLED: envInt(0, 1000000).default(10000),
  /**
   * Where a consumer group that never committed starts on its input topic: `latest` (default,
   * like Kafka's auto.offset.reset) or `earliest` (decide everything the topic retains).
   */
  ROUTING_NEW_GROUP_START: z.enum(['latest', 'earliest']).default('latest'),
  /**
   * Backpressure of `POST /v1/apps/{appId}/messages`: messages accepted and not yet acknowledged
   * by Kafka, in number and in bytes (as encoded for Kafka), over all apps and per app. A request
   * that would go beyond is answered 503 with Retry-After; the per-app caps keep one app from
   * using up the room of all the others.
   */
  ROUTING_MESSAGES_MAX_PENDING: envInt(1, 1000000).default(10000),
  ROUTING_MESSAGES_MAX_PENDING_BYTES: envInt(64 * 1024, 4 * 1024 * 1024 * 1024).default(
    32 * 1024 * 1024,
  ),
  ROUTING_MESSAGES_MAX_PENDING_PER_APP: envInt(1, 1000000).default(5000),
  ROUTING_MESSAGES_MAX_PENDING_BYTES_PER_APP: envInt(64 * 1024, 4 * 1024 * 1024 * 1024).default(
    16 * 1024 * 1024,
  ),
  /** The Retry-After (seconds) of a 503 from the messages API. */
  ROUTING_MESSAGES_RETRY_AFTER_SECONDS: envInt(1, 3600).default(1),
  /**
   * Partitions the fan-out and decide groups each handle at once (decide: one Kafka transaction
   * per partition in flight, each on its partition's own transactional producer). Input batches
   * of one partition number still go one after the other (their state is shared). 1 handles one
   * partition at a time: a record then waits for the turns of the partitions before it.
   */
  ROUTING_PARTITIONS_CONCURRENTLY: envInt(1, 1000).default(12),
  /** Consumer group ids; the decide group's id also prefixes its transactional ids. */
  ROUTING_FANOUT_GROUP: z.string().min(1).default('routing-fanout'),
  ROUTING_DECIDE_GROUP: z.string().min(1).default('routing-decide'),
});
export type RoutingSettings = z.infer<typeof RoutingSettingsSchema>;

export const RoutingEnvSchema = BaseEnvSchema.extend(RoutingSettingsSchema.shape);
export type RoutingEnv = z.infer<typeof RoutingEnvSchema>;

/** Routing's settings from a config built with the base schema alone take their defaults. */
export const routingSettings = (env: object): RoutingSettings => ({
  ...RoutingSettingsSchema.parse({}),
  ...(env as Partial<RoutingSettings>),
});
