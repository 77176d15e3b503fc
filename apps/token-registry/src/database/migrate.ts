/**
 * Applies the registry's pending migrations and exits: `npm run migrate:registry`, run by a
 * Kubernetes Job before the service's rollout. Needs only DATABASE_URL.
 */
import 'reflect-metadata';
import { loadEnv } from '@app/config';
import { DataSource } from 'typeorm';
import { DatabaseEnvSchema } from '../registry-env.schema';
import { registryDataSourceOptions } from './registry-data-source';

/** Runs pending migrations; returns the names of those applied. */
export async function migrateRegistry(env: { DATABASE_URL: string }): Promise<string[]> {
  const ds = new DataSource(
    registryDataSourceOptions({ DATABASE_URL: env.DATABASE_URL, DATABASE_POOL_SIZE: 2 }),
  );
  await ds.initialize();
  const lock = ds.createQueryRunner();
  try {
    await lock.connect();
    // Two Jobs (or a Job and a test run) at once must not both apply DDL: the second waits here,
    // then finds nothing left to do.
    await lock.query(`SELECT pg_advisory_lock(hashtext('registry_migrations'))`);
    const applied = await ds.runMigrations({ transaction: 'all' });
    return applied.map((m) => m.name);
  } finally {
    await lock.query(`SELECT pg_advisory_unlock(hashtext('registry_migrations'))`).catch(() => 0);
    await lock.release();
    await ds.destroy();
  }
}

if (require.main === module) {
  const log = (line: Record<string, unknown>) =>
    process.stdout.write(`${JSON.stringify({ service: 'token-registry', ...line })}\n`);
  migrateRegistry(loadEnv(DatabaseEnvSchema))
    .then((applied) => {
      log({ level: 'info', msg: 'migrations applied', applied });
      process.exit(0);
    })
    .catch((e: Error) => {
      log({ level: 'fatal', msg: 'migration failed', err: e.message });
      process.exit(1);
    });
}
