import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ServiceConfig } from '@app/config';
import type { DeliveryReportsEnv } from '../reports-env.schema';
import { reportsMetrics } from '../reports.metrics';
import {
  daysOf,
  partitionsToDrop,
  retentionWindow,
  utcDay,
  type DayWindow,
  type PartitionedTable,
} from './partition-days';
import { Partitions } from './partitions';

export interface MaintenanceReport {
  created: Record<PartitionedTable, string[]>;
  dropped: Record<PartitionedTable, string[]>;
}

/** A failed round is tried again this soon (a database still starting), not a whole interval later. */
const RETRY_MS = 30_000;

/**
 * The daily partitions' upkeep, at boot and every DELIVERY_REPORTS_MAINTENANCE_INTERVAL_MINUTES:
 * creates today's and the next DELIVERY_REPORTS_PARTITIONS_AHEAD_DAYS days' partitions of both
 * tables, and drops the outcome partitions older than DELIVERY_REPORTS_RETENTION_DAYS and the
 * rollup partitions older than DELIVERY_REPORTS_ROLLUP_RETENTION_DAYS (at least the outcomes'
 * retention). Every instance runs it; the DDL is serialised by an advisory lock and idempotent.
 */
@Injectable()
export class PartitionMaintenance implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PartitionMaintenance.name);
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly env: DeliveryReportsEnv;

  constructor(
    private readonly partitions: Partitions,
    @Inject(ServiceConfig) config: ServiceConfig<DeliveryReportsEnv>,
  ) {
    this.env = config.env;
  }

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** The windows each table keeps at `now`. */
  windows(now: number): Record<PartitionedTable, DayWindow> {
    const e = this.env;
    const ahead = e.DELIVERY_REPORTS_PARTITIONS_AHEAD_DAYS;
    const rollupDays = Math.max(
      e.DELIVERY_REPORTS_ROLLUP_RETENTION_DAYS,
      e.DELIVERY_REPORTS_RETENTION_DAYS,
    );
    return {
      outcomes: retentionWindow(now, e.DELIVERY_REPORTS_RETENTION_DAYS, ahead),
      outcome_rollups: retentionWindow(now, rollupDays, ahead),
    };
  }

  /** One round (tests call it with another clock). */
  async run(now = Date.now()): Promise<MaintenanceReport> {
    const report: MaintenanceReport = {
      created: { outcomes: [], outcome_rollups: [] },
      dropped: { outcomes: [], outcome_rollups: [] },
    };
    for (const [table, window] of Object.entries(this.windows(now)) as [
      PartitionedTable,
      DayWindow,
    ][]) {
      const existing = await this.partitions.existing(table);
      const drop = partitionsToDrop(existing, window);
      await this.partitions.drop(table, drop);
      const ahead = daysOf({ oldest: utcDay(now), newest: window.newest });
      report.created[table] = await this.partitions.ensure(table, ahead);
      report.dropped[table] = drop;
      reportsMetrics.partitions.set(
        { table },
        existing.length - drop.length + report.created[table].length,
      );
    }
    return report;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.run().then(
        (r) => {
          const changed =
            Object.values(r.created).flat().length + Object.values(r.dropped).flat().length;
          if (changed) this.logger.log({ msg: 'partitions maintained', ...r });
          this.schedule(this.env.DELIVERY_REPORTS_MAINTENANCE_INTERVAL_MINUTES * 60_000);
        },
        (e: Error) => {
          reportsMetrics.maintenanceFailures.inc();
          this.logger.warn({ msg: 'partition maintenance failed; retrying', err: e.message });
          this.schedule(
            Math.min(RETRY_MS, this.env.DELIVERY_REPORTS_MAINTENANCE_INTERVAL_MINUTES * 60_000),
          );
        },
      );
    }, delayMs);
    this.timer.unref();
  }
}
