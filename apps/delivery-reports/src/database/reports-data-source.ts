import { postgresDataSourceOptions, type DatabaseConnectionEnv } from '@app/database';
import type { DataSourceOptions, Logger as TypeOrmLogger } from 'typeorm';
import { ReportsSchema1764979200000 } from './migrations/1764979200000-reports-schema';
import { PushTasks1795900000000 } from './migrations/1795900000000-push-tasks';
import { DEFAULT_REPORTS_SCHEMA } from './reports-schema';

/** Listed, not globbed: the service is bundled by webpack, where a file glob finds nothing. */
export const REPORTS_MIGRATIONS = [ReportsSchema1764979200000, PushTasks1795900000000];

export type ReportsConnectionEnv = DatabaseConnectionEnv & { DELIVERY_REPORTS_SCHEMA?: string };

/**
 * The service's data source (service, migration command, tests, bench): no entities (the store
 * and the queries are SQL), the migration history in the service's own schema.
 */
export function reportsDataSourceOptions(
  env: ReportsConnectionEnv,
  extra: { logger?: TypeOrmLogger } = {},
): DataSourceOptions {
  return {
    ...postgresDataSourceOptions(
      env,
      { migrations: REPORTS_MIGRATIONS, migrationsTableName: 'migrations' },
      extra,
    ),
    schema: env.DELIVERY_REPORTS_SCHEMA ?? DEFAULT_REPORTS_SCHEMA,
  } as DataSourceOptions;
}
