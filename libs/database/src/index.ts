export * from './db-errors';
export * from './database-env.schema';
export * from './database.health';
export * from './database-unavailable.interceptor';
export * from './data-source.options';
export * from './migrate';
