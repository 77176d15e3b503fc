/** SQLSTATEs after which the same transaction, run again, may well succeed. */
const RETRY_TX = new Set(['40001', '40P01', '23505']);

/** SQLSTATE classes and codes that mean "the database is not reachable or not coping right now". */
const TRANSIENT_CLASSES = ['08', '53', '57'];
const TRANSIENT_CODES = new Set(['40001', '40P01', '55P03', '55006']);
const TRANSIENT_MESSAGES =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is (starting up|shutting down)/i;

const sqlState = (e: unknown): string | undefined => {
  const code = (e as { code?: unknown; driverError?: { code?: unknown } } | null)?.code;
  const driver = (e as { driverError?: { code?: unknown } } | null)?.driverError?.code;
  const c = typeof code === 'string' ? code : typeof driver === 'string' ? driver : undefined;
  return c && /^[0-9A-Z]{5}$/.test(c) ? c : undefined;
};

/** A conflict with a concurrent transaction (deadlock, serialisation, unique race): run it again. */
export const isRetryableConflict = (e: unknown): boolean => {
  const c = sqlState(e);
  return c !== undefined && RETRY_TX.has(c);
};

/** An outage or overload rather than a bug: callers wait and retry instead of giving up. */
export const isTransientDbError = (e: unknown): boolean => {
  const c = sqlState(e);
  if (c) return TRANSIENT_CODES.has(c) || TRANSIENT_CLASSES.includes(c.slice(0, 2));
  // Duck-typed: socket errors may come from another realm, where `instanceof Error` fails.
  const message = (e as { message?: unknown } | null)?.message;
  return typeof message === 'string' && TRANSIENT_MESSAGES.test(message);
};

/** A statement the server cancelled after `statement_timeout` (SQLSTATE 57014, query_canceled). */
export const isStatementTimeout = (e: unknown): boolean => sqlState(e) === '57014';

/**
 * The schema or a table is not there (SQLSTATE 42P01 undefined_table, 3F000 invalid_schema_name):
 * the migrations have not run yet. A consumer waits for them rather than dead-lettering records.
 */
export const isSchemaMissing = (e: unknown): boolean => {
  const c = sqlState(e);
  return c === '42P01' || c === '3F000';
};
