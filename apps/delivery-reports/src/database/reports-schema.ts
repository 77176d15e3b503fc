import type { DataSource, QueryRunner } from 'typeorm';
import type { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';

export const DEFAULT_REPORTS_SCHEMA = 'delivery_reports';

/**
 * The schema the service's tables live in (DELIVERY_REPORTS_SCHEMA, an identifier checked at
 * boot), as the data source carries it: migrations, the store and the queries read it from there.
 */
export function reportsSchemaOf(source: DataSource | QueryRunner): string {
  const ds = 'connection' in source ? source.connection : source;
  return (ds.options as PostgresConnectionOptions).schema ?? DEFAULT_REPORTS_SCHEMA;
}

/** `"delivery_reports".outcomes`: a table of the schema, quoted for SQL. */
export const qualified = (schema: string, table: string): string => `"${schema}".${table}`;
