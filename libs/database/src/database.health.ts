import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { withTimeout, type ReadinessCheck } from '@app/observability';
import { DataSource } from 'typeorm';

/** Ready when PostgreSQL answers a query. */
@Injectable()
export class DatabaseHealthIndicator implements ReadinessCheck {
  constructor(
    private readonly dataSource: DataSource,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async isReady(): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check('database');
    try {
      await withTimeout(this.dataSource.query('SELECT 1'), 3000, 'PostgreSQL');
      return indicator.up();
    } catch (e) {
      return indicator.down({ message: (e as Error).message });
    }
  }
}
