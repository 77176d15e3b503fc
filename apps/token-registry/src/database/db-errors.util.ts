/** The database error classes are shared (`@app/database`); the registry's imports go through here. */
export { isRetryableConflict, isStatementTimeout, isTransientDbError } from '@app/database';
