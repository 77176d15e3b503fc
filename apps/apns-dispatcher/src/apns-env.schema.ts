import { BaseEnvSchema, envInt } from '@app/config';
import { z } from 'zod';

export const ApnsEnvSchema = BaseEnvSchema.extend({
  /** Consumer group of the request and retry topics. */
  APNS_GROUP_ID: z.string().min(1).default('apns-dispatcher'),
  /** HTTP/2 connections per (app, environment) pool. */
  APNS_CONNECTIONS_PER_POOL: envInt(1, 64).default(4),
  /** Streams in flight per connection (Apple allows up to 1000; stay below its advertised limit). */
  APNS_MAX_IN_FLIGHT_PER_CONNECTION: envInt(1, 1000).default(200),
  /** One send's time limit (node-apn's own, plus a guard above it). */
  APNS_REQUEST_TIMEOUT_MS: envInt(200, 60000).default(5000),
  /** Health check: a PING every this often; no answer within the timeout replaces the session. */
  APNS_PING_INTERVAL_MS: envInt(200, 600000).default(5000),
  APNS_PING_TIMEOUT_MS: envInt(100, 60000).default(2000),
  /** Consecutive send timeouts on one session that mark it stuck. */
  APNS_STUCK_AFTER_TIMEOUTS: envInt(1, 1000).default(3),
  APNS_RETRY_BASE_MS: envInt(1, 3600000).default(1000),
  APNS_RETRY_MAX_MS: envInt(1, 86400000).default(600000),
  APNS_RECENT_JOBS_PER_PARTITION: envInt(0, 10000000).default(10000),
  /** Consumers (group members) in this process; more overlap sends with Kafka round trips. */
  APNS_CONSUMERS: envInt(1, 16).default(1),
  /** Partitions handled at once (each partition's batch is sent concurrently within the limits). */
  APNS_PARTITIONS_CONCURRENTLY: envInt(1, 1000).default(12),
  /** Kafka group session timeout: how soon a dead instance's partitions move to the others. */
  APNS_SESSION_TIMEOUT_MS: envInt(6000, 300000).default(30000),
  APNS_MAX_BYTES_PER_PARTITION: envInt(1024, 104857600).default(1048576),
});
export type ApnsEnv = z.infer<typeof ApnsEnvSchema>;
