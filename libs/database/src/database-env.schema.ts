import { envInt } from '@app/config';
import { z } from 'zod';

/** The PostgreSQL settings of a service that owns a database (spread into its env schema). */
export const DatabaseEnvSchema = z.object({
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL'),
  DATABASE_POOL_SIZE: envInt(1, 200).default(10),
  /**
   * PostgreSQL `statement_timeout` of the service's connections: a statement (a lock wait
   * included) running longer is cancelled (SQLSTATE 57014; the API answers 503), so one slow
   * request cannot hold a pooled connection for long. 0 disables. Migrations run without it.
   */
  DATABASE_STATEMENT_TIMEOUT_MS: envInt(0, 600000).default(5000),
});
export type DatabaseEnv = z.infer<typeof DatabaseEnvSchema>;

/** What a data source needs: the statement timeout is optional (migrations, tests run without). */
export type DatabaseConnectionEnv = Omit<DatabaseEnv, 'DATABASE_STATEMENT_TIMEOUT_MS'> &
  Partial<Pick<DatabaseEnv, 'DATABASE_STATEMENT_TIMEOUT_MS'>>;
