import { Global, Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatabaseHealthIndicator } from '@app/database';
import { DataSource, type DataSourceOptions } from 'typeorm';
import type { DeliveryReportsEnv } from '../reports-env.schema';
import { migrateReports } from './migrate';
import { reportsDataSourceOptions } from './reports-data-source';

/**
 * The service's PostgreSQL: a TypeORM data source used for plain SQL, retried at boot until the
 * database answers (with DELIVERY_REPORTS_RUN_MIGRATIONS, the migrations run first, under their
 * advisory lock), and the readiness check that asks it.
 */
@Global()
@Module({})
export class ReportsDatabaseModule {
  static forRoot(env: DeliveryReportsEnv): DynamicModule {
    return {
      module: ReportsDatabaseModule,
      imports: [
        TerminusModule,
        TypeOrmModule.forRootAsync({
          useFactory: () => ({
            ...reportsDataSourceOptions(env),
            retryAttempts: Number.MAX_SAFE_INTEGER,
            retryDelay: 2000,
          }),
          dataSourceFactory: async (options?: DataSourceOptions) => {
            if (env.DELIVERY_REPORTS_RUN_MIGRATIONS) await migrateReports(env);
            return new DataSource(options!);
          },
        }),
      ],
      providers: [DatabaseHealthIndicator],
      exports: [DatabaseHealthIndicator],
    };
  }
}
