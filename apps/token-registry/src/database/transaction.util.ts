import type { DataSource, EntityManager } from 'typeorm';
import { isRetryableConflict } from './db-errors.util';

/** SQL inside one transaction: rows of a statement (with RETURNING for writes) and its row count. */
export interface Tx {
  query<R = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
  ): Promise<{ rows: R[]; affected: number }>;
  /** The same transaction through TypeORM's entity API. */
  manager: EntityManager;
}

/** Thrown inside a transaction to roll it back and return `value` (a request that changed nothing). */
export class Rollback<T> extends Error {
  constructor(readonly value: T) {
    super('rollback');
  }
}

/**
 * Runs `fn` in a READ COMMITTED transaction. A deadlock or a unique-key race with a concurrent
 * registration of the same token is not an error the client should see: the whole transaction
 * runs again, and sees the other's committed result.
 */
export async function inTransaction<T>(
  dataSource: DataSource,
  fn: (tx: Tx) => Promise<T>,
  attempts = 5,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const runner = dataSource.createQueryRunner();
    try {
      await runner.connect();
      await runner.startTransaction();
      const tx: Tx = {
        query: async <R>(sql: string, params?: unknown[]) => {
          const r = await runner.query(sql, params, true);
          return { rows: (r.records ?? []) as R[], affected: r.affected ?? 0 };
        },
        manager: runner.manager,
      };
      const value = await fn(tx);
      await runner.commitTransaction();
      return value;
    } catch (e) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      if (e instanceof Rollback) return e.value as T;
      if (attempt >= attempts || !isRetryableConflict(e)) throw e;
      await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 10));
    } finally {
      await runner.release();
    }
  }
}
