/**
 * Applies the delivery reports' pending migrations and exits: `npm run migrate:reports`, run by a
 * Kubernetes Job before the service's rollout (or at boot with DELIVERY_REPORTS_RUN_MIGRATIONS).
 * Needs DATABASE_URL (and DELIVERY_REPORTS_SCHEMA when not the default).
 */
import 'reflect-metadata';
import { loadEnv } from '@app/config';
import { DatabaseEnvSchema, runMigrationCommand, runMigrationsLocked } from '@app/database';
import { SchemaNameSchema } from '../reports-env.schema';
import { reportsDataSourceOptions } from './reports-data-source';
import { DEFAULT_REPORTS_SCHEMA } from './reports-schema';

/** Runs pending migrations (serialised on an advisory lock); returns the names of those applied. */
export function migrateReports(env: {
  DATABASE_URL: string;
  DELIVERY_REPORTS_SCHEMA?: string;
}): Promise<string[]> {
  const schema = SchemaNameSchema.parse(env.DELIVERY_REPORTS_SCHEMA ?? DEFAULT_REPORTS_SCHEMA);
  return runMigrationsLocked(
    reportsDataSourceOptions({
      DATABASE_URL: env.DATABASE_URL,
      DATABASE_POOL_SIZE: 2,
      DELIVERY_REPORTS_SCHEMA: schema,
    }),
    `delivery_reports_migrations:${schema}`,
    // The history table lives in the schema: it must exist before TypeORM looks for the table.
    async (ds) => {
      await ds.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    },
  );
}

if (require.main === module) {
  const env = loadEnv(
    DatabaseEnvSchema.pick({ DATABASE_URL: true }).extend({
      DELIVERY_REPORTS_SCHEMA: SchemaNameSchema.default(DEFAULT_REPORTS_SCHEMA),
    }),
  );
  runMigrationCommand('delivery-reports', () => migrateReports(env));
}
