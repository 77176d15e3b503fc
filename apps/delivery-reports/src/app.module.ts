import { Module, type DynamicModule } from '@nestjs/common';
import type { ServiceConfig } from '@app/config';
import { DatabaseHealthIndicator } from '@app/database';
import { platformImports } from '@app/http';
import { ReportsApiModule } from './api/reports-api.module';
import { ReportsDatabaseModule } from './database/database.module';
import { DiagnosisModule } from './diagnosis/diagnosis.module';
import type { DeliveryReportsEnv } from './reports-env.schema';
import { OutcomesConsumer, storeGroup } from './store/outcomes.consumer';
import { StoreModule } from './store/store.module';
import { TasksConsumer, tasksGroup } from './tasks/tasks.consumer';
import { TasksModule } from './tasks/tasks.module';
import { webhookGroups } from './webhooks/webhooks.consumer';
import { WebhooksModule } from './webhooks/webhooks.module';

/**
 * The delivery reports: `push.outcome.v1` stored in PostgreSQL (consumer group
 * `delivery-reports-store`), the API over it (messages' and users' outcomes, stats), and the
 * partitions' upkeep. Features add their module to `imports` below: webhooks (src/webhooks/),
 * the support diagnosis (src/diagnosis/, `GET .../users/{userId}/diagnosis`).
 */
@Module({})
export class DeliveryReportsAppModule {
  static forRoot(config: ServiceConfig<DeliveryReportsEnv>): DynamicModule {
    const store = config.env.DELIVERY_REPORTS_STORE_CONSUMER;
    return {
      module: DeliveryReportsAppModule,
      imports: [
        ...platformImports(config, {
          readiness: [DatabaseHealthIndicator],
          imports: [ReportsDatabaseModule.forRoot(config.env)],
          consumers: [
            ...(store ? [storeGroup(config.env), tasksGroup(config.env)] : []),
            ...webhookGroups(config),
          ],
        }),
        StoreModule,
        ReportsApiModule,
        WebhooksModule.forRoot(config),
        DiagnosisModule,
        TasksModule,
      ],
      controllers: store ? [OutcomesConsumer, TasksConsumer] : [],
    };
  }
}
