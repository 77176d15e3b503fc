import type { DataSourceOptions, Logger as TypeOrmLogger } from 'typeorm';
import { DeviceEntity } from '../devices/device.entity';
import { OutboxEntryEntity } from '../outbox/outbox-entry.entity';
import { PushUserEntity } from '../users/push-user.entity';
import type { DatabaseEnv } from '../registry-env.schema';
import { RegistrySchema1764136800000 } from './migrations/1764136800000-registry-schema';
import { OutboxUnsentById1764140400000 } from './migrations/1764140400000-outbox-unsent-by-id';
import { ValuesWithinContract1764658800000 } from './migrations/1764658800000-values-within-contract';

/** Listed, not globbed: the service is bundled by webpack, where a file glob finds nothing. */
export const REGISTRY_ENTITIES = [PushUserEntity, DeviceEntity, OutboxEntryEntity];
export const REGISTRY_MIGRATIONS = [
  RegistrySchema1764136800000,
  OutboxUnsentById1764140400000,
  ValuesWithinContract1764658800000,
];

/**
 * The one place the registry's database settings are spelt out (service, CLI commands, bench).
 * Without `DATABASE_STATEMENT_TIMEOUT_MS` (migrations, tests' own connections) statements have
 * no time limit.
 */
export function registryDataSourceOptions(
  env: Omit<DatabaseEnv, 'DATABASE_STATEMENT_TIMEOUT_MS'> &
    Partial<Pick<DatabaseEnv, 'DATABASE_STATEMENT_TIMEOUT_MS'>>,
  extra: { logger?: TypeOrmLogger; runMigrations?: boolean } = {},
): DataSourceOptions {
  return {
    type: 'postgres',
    url: env.DATABASE_URL,
    entities: REGISTRY_ENTITIES,
    migrations: REGISTRY_MIGRATIONS,
    migrationsTableName: 'registry_migrations',
    // One transaction for all pending migrations: a failed deploy leaves the schema as it was.
    migrationsTransactionMode: 'all',
    migrationsRun: extra.runMigrations ?? false,
    synchronize: false,
    logger: extra.logger,
    // Off: TypeORM would log failing statements with their parameters, device tokens included.
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
