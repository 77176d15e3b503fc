import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { qualified, reportsSchemaOf } from '../database/reports-schema';
import { reportsMetrics } from '../reports.metrics';
import {
  addDays,
  DAY_MS,
  dayStartMs,
  partitionDay,
  partitionName,
  type PartitionedTable,
} from './partition-days';

/** The bounds of a day's partition, as SQL literals of the table's partition key type. */
const BOUNDS: Record<PartitionedTable, (day: string) => string> = {
  outcomes: (day) => `FROM ('${day}') TO ('${addDays(day, 1)}')`,
  outcome_rollups: (day) => `FROM ('${day} 00:00:00+00') TO ('${addDays(day, 1)} 00:00:00+00')`,
};

/**
 * The daily partitions of the service's tables: which exist, creating and dropping them. DDL runs
 * under a transaction-scoped advisory lock (one per schema), so instances and the maintenance job
 * never race each other over the same partition; a drop waits at most 2 s for its locks (then the
 * round fails and the next one tries again) rather than queueing every query behind it.
 * The days known to exist are cached, so that a batch for today costs no DDL.
 *
 * The end of each table's newest partition is reported (`push_reports_partitions_end_timestamp_seconds`):
 * as the database lists them when they are read, raised by those created since. A maintenance
 * that keeps failing thus shows as that end coming closer.
 */
@Injectable()
export class Partitions {
  private readonly schema: string;
  private readonly known = new Map<PartitionedTable, Set<string>>();
  /** The newest day with a partition, per table, as last read or created. */
  private readonly newest = new Map<PartitionedTable, string>();

  constructor(private readonly ds: DataSource) {
    this.schema = reportsSchemaOf(ds);
  }

  /** The days that have a partition of `table`. */
  async existing(table: PartitionedTable): Promise<string[]> {
    const rows: { name: string }[] = await this.ds.query(
      `SELECT c.relname AS name
         FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
         JOIN pg_class p ON p.oid = i.inhparent
         JOIN pg_namespace n ON n.oid = p.relnamespace
        WHERE n.nspname = $1 AND p.relname = $2`,
      [this.schema, table],
    );
    const days = rows.flatMap((r) => partitionDay(table, r.name) ?? []).sort();
    this.known.set(table, new Set(days));
    this.reportNewest(table, days.at(-1), true);
    return days;
  }

  /** Creates the partitions of `days` not known to exist; returns the days created. */
  async ensure(table: PartitionedTable, days: Iterable<string>): Promise<string[]> {
    const known = this.known.get(table) ?? new Set<string>();
    const missing = [...new Set(days)].filter((d) => !known.has(d)).sort();
    if (!missing.length) return [];
    const created = await this.ds.transaction(async (tx) => {
      await this.lock(tx);
      const made: string[] = [];
      for (const day of missing) {
        const [{ exists }]: { exists: boolean }[] = await tx.query(
          `SELECT to_regclass($1) IS NOT NULL AS exists`,
          [qualified(this.schema, partitionName(table, day))],
        );
        if (exists) continue;
        await tx.query(
          `CREATE TABLE ${qualified(this.schema, partitionName(table, day))}
             PARTITION OF ${qualified(this.schema, table)} FOR VALUES ${BOUNDS[table](day)}`,
        );
        made.push(day);
      }
      return made;
    });
    for (const d of missing) known.add(d);
    this.known.set(table, known);
    reportsMetrics.partitionsCreated.inc({ table }, created.length);
    this.reportNewest(table, missing.at(-1), false);
    return created;
  }

  /** Drops the partitions of `days` (their rows with them). */
  async drop(table: PartitionedTable, days: string[]): Promise<void> {
    if (!days.length) return;
    await this.ds.transaction(async (tx) => {
      await this.lock(tx);
      await tx.query(`SET LOCAL lock_timeout = '2s'`);
      for (const day of days) {
        await tx.query(`DROP TABLE IF EXISTS ${qualified(this.schema, partitionName(table, day))}`);
      }
    });
    const known = this.known.get(table);
    for (const d of days) known?.delete(d);
    reportsMetrics.partitionsDropped.inc({ table }, days.length);
  }

  /** After an insert found no partition for a row (dropped meanwhile): ask the database again. */
  forget(): void {
    this.known.clear();
  }

  /** The newest day with a partition: as the database listed them, or a day now known to have one. */
  private reportNewest(table: PartitionedTable, day: string | undefined, listed: boolean): void {
    if (day === undefined) return;
    const current = this.newest.get(table);
    if (!listed && current !== undefined && current >= day) return;
    this.newest.set(table, day);
    reportsMetrics.partitionsEnd.set({ table }, (dayStartMs(day) + DAY_MS) / 1000);
  }

  private async lock(tx: EntityManager): Promise<void> {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [
      `delivery_reports_partitions:${this.schema}`,
    ]);
  }
}
