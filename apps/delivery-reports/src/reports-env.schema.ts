import { BaseEnvSchema, envBoolean, envInt } from '@app/config';
import { DatabaseEnvSchema } from '@app/database';
import { z } from 'zod';
import { DiagnosisEnvSchema } from './diagnosis/diagnosis-env.schema';
import { WebhooksEnvSchema } from './webhooks/webhooks-env.schema';

/** A PostgreSQL schema name the service creates and owns (interpolated into SQL: checked here). */
export const SchemaNameSchema = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a PostgreSQL identifier: a-z, 0-9 and _, at most 63');

/** Settings the store, its maintenance and the migrations read (also the migration command's). */
export const ReportsDatabaseEnvSchema = DatabaseEnvSchema.extend({
  /** The PostgreSQL schema holding the tables (two deployments, or tests, can share a database). */
  DELIVERY_REPORTS_SCHEMA: SchemaNameSchema.default('delivery_reports'),
  /** Days of stored outcomes: older daily partitions are dropped whole. */
  DELIVERY_REPORTS_RETENTION_DAYS: envInt(1, 400).default(7),
  /** Days of per-minute rollups (what `/stats` reads): kept longer than the outcomes. */
  DELIVERY_REPORTS_ROLLUP_RETENTION_DAYS: envInt(1, 1830).default(90),
  /** Daily partitions created ahead of today by the maintenance job. */
  DELIVERY_REPORTS_PARTITIONS_AHEAD_DAYS: envInt(1, 30).default(3),
});
export type ReportsDatabaseEnv = z.infer<typeof ReportsDatabaseEnvSchema>;

export const DeliveryReportsEnvSchema = BaseEnvSchema.extend({
  ...ReportsDatabaseEnvSchema.shape,
  /** Outcome webhooks (WEBHOOK_*): see src/webhooks/webhooks-env.schema.ts. */
  ...WebhooksEnvSchema.shape,
  /** The support diagnosis (DELIVERY_REPORTS_DIAGNOSIS_*): src/diagnosis/diagnosis-env.schema.ts. */
  ...DiagnosisEnvSchema.shape,
  /**
   * Apply pending migrations when the service boots (under the same advisory lock as the
   * migration command). Off by default: in Kubernetes the chart's hook Job runs
   * `node dist/scripts/migrate-delivery-reports.js` before the rollout.
   */
  DELIVERY_REPORTS_RUN_MIGRATIONS: envBoolean.default(false),
  /** Whether this instance consumes `push.outcome.v1` into the store (the API works without). */
  DELIVERY_REPORTS_STORE_CONSUMER: envBoolean.default(true),
  /** The Kafka group id of the store's consumer group. */
  DELIVERY_REPORTS_STORE_GROUP_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/)
    .default('delivery-reports-store'),
  /**
   * Where the store's group starts the first time it runs: `earliest` (default) stores what
   * push.outcome.v1 still retains; `latest` only what is written from then on.
   */
  DELIVERY_REPORTS_NEW_GROUP_START: z.enum(['earliest', 'latest']).default('earliest'),
  /** Outcomes per INSERT statement (a Kafka batch is split into statements of at most this). */
  DELIVERY_REPORTS_INSERT_CHUNK: envInt(1, 5000).default(1000),
  /** How often the partition maintenance runs (create ahead, drop past retention). */
  DELIVERY_REPORTS_MAINTENANCE_INTERVAL_MINUTES: envInt(1, 1440).default(60),
});
export type DeliveryReportsEnv = z.infer<typeof DeliveryReportsEnvSchema>;
