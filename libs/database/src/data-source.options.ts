import type { DataSourceOptions, Logger as TypeOrmLogger, MixedList } from 'typeorm';
import type { DatabaseConnectionEnv } from './database-env.schema';

/** What differs between the services' databases: their entities, migrations and history table. */
export interface DatabaseSchemaOptions {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type
  entities?: MixedList<Function | string>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type
  migrations: MixedList<Function | string>;
  /** The migration history table (one per service: they share a database). */
  migrationsTableName: string;
}

/**
 * A service's PostgreSQL data source. Migrations and entities are listed, not globbed: services
 * are bundled by webpack, where a file glob finds nothing. Without `DATABASE_STATEMENT_TIMEOUT_MS`
 * (migrations, tests' own connections) statements have no time limit.
 */
export function postgresDataSourceOptions(
  env: DatabaseConnectionEnv,
  schema: DatabaseSchemaOptions,
  extra: { logger?: TypeOrmLogger; runMigrations?: boolean } = {},
): DataSourceOptions {
  return {
    type: 'postgres',
    url: env.DATABASE_URL,
    entities: schema.entities ?? [],
    migrations: schema.migrations,
    migrationsTableName: schema.migrationsTableName,
    // One transaction for all pending migrations: a failed deploy leaves the schema as it was.
    migrationsTransactionMode: 'all',
    migrationsRun: extra.runMigrations ?? false,
    synchronize: false,
    logger: extra.logger,
    // Off: TypeORM would log failing statements with their parameters (device tokens, user ids).
    // Errors reach the caller, which logs them without parameters.
    logging: extra.logger ? ['query'] : false,
    extra: {
      max: env.DATABASE_POOL_SIZE,
      connectionTimeoutMillis: 3000,
      // Sent by node-postgres with each connection's startup: the server cancels any statement
      // (a lock wait included) running longer, with SQLSTATE 57014.
      ...(env.DATABASE_STATEMENT_TIMEOUT_MS
        ? { statement_timeout: env.DATABASE_STATEMENT_TIMEOUT_MS }
        : {}),
    },
  };
}
