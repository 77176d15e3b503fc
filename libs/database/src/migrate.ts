import { DataSource, type DataSourceOptions } from 'typeorm';

/**
 * Applies a data source's pending migrations, in one transaction, while holding an advisory lock
 * named `lockName`: two Jobs (or a Job and a test run) at once must not both apply DDL, so the
 * second waits, then finds nothing left to do. `prepare` runs under the lock first (e.g. creating
 * the schema that holds the history table). Returns the names of the migrations applied.
 */
export async function runMigrationsLocked(
  options: DataSourceOptions,
  lockName: string,
  prepare?: (ds: DataSource) => Promise<void>,
): Promise<string[]> {
  const ds = new DataSource(options);
  await ds.initialize();
  const lock = ds.createQueryRunner();
  try {
    await lock.connect();
    await lock.query(`SELECT pg_advisory_lock(hashtext($1))`, [lockName]);
    await prepare?.(ds);
    const applied = await ds.runMigrations({ transaction: 'all' });
    return applied.map((m) => m.name);
  } finally {
    await lock.query(`SELECT pg_advisory_unlock(hashtext($1))`, [lockName]).catch(() => 0);
    await lock.release();
    await ds.destroy();
  }
}

/** The `if (require.main === module)` part of a migration command: one JSON line, exit code. */
export function runMigrationCommand(service: string, migrate: () => Promise<string[]>): void {
  const log = (line: Record<string, unknown>) =>
    process.stdout.write(`${JSON.stringify({ service, ...line })}\n`);
  migrate()
    .then((applied) => {
      log({ level: 'info', msg: 'migrations applied', applied });
      process.exit(0);
    })
    .catch((e: Error) => {
      log({ level: 'fatal', msg: 'migration failed', err: e.message });
      process.exit(1);
    });
}
