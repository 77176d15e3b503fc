/**
 * Applies the registry's pending migrations and exits: `npm run migrate:registry`, run by a
 * Kubernetes Job before the service's rollout. Needs only DATABASE_URL.
 */
import 'reflect-metadata';
import { loadEnv } from '@app/config';
import { runMigrationCommand, runMigrationsLocked } from '@app/database';
import { DatabaseEnvSchema } from '../registry-env.schema';
import { registryDataSourceOptions } from './registry-data-source';

/** Runs pending migrations (serialised on an advisory lock); returns the names of those applied. */
export function migrateRegistry(env: { DATABASE_URL: string }): Promise<string[]> {
  return runMigrationsLocked(
    registryDataSourceOptions({ DATABASE_URL: env.DATABASE_URL, DATABASE_POOL_SIZE: 2 }),
    'registry_migrations',
  );
}

if (require.main === module) {
  runMigrationCommand('token-registry', () => migrateRegistry(loadEnv(DatabaseEnvSchema)));
}
