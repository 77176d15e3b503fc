import type { NestExpressApplication } from '@nestjs/platform-express';
import { ServiceConfig } from '@app/config';
import type { PushOutcome } from '@app/contracts';
import { KafkaConsumerGroups } from '@app/kafka';
import { startService, uniqueId, waitFor } from '@app/testing';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { migrateReports } from '@apps/delivery-reports/database/migrate';
import { reportsDataSourceOptions } from '@apps/delivery-reports/database/reports-data-source';
import type { DeliveryReportsEnv } from '@apps/delivery-reports/reports-env.schema';
import { STORE_GROUP } from '@apps/delivery-reports/store/outcomes.consumer';
import { SERVICES } from '../services';

export const DEMO = { appId: 'demo', auth: 'Bearer demo-api-key' };
export const OTHER = { appId: 'other', auth: 'Bearer other-api-key' };

export const databaseUrl = (): string => process.env.DATABASE_URL!;

/**
 * A PostgreSQL schema of the test's own (DELIVERY_REPORTS_SCHEMA), so that partitions created,
 * dropped or counted by one spec are nobody else's; dropped again by `dropSchema`.
 */
export const testSchema = (): string => `dr_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

/** The schema migrated (what the Kubernetes Job does), and a plain DataSource on it. */
export async function migratedDataSource(schema: string): Promise<DataSource> {
  await migrateReports({ DATABASE_URL: databaseUrl(), DELIVERY_REPORTS_SCHEMA: schema });
  const ds = new DataSource(
    reportsDataSourceOptions({
      DATABASE_URL: databaseUrl(),
      DATABASE_POOL_SIZE: 4,
      DELIVERY_REPORTS_SCHEMA: schema,
    }),
  );
  return ds.initialize();
}

export async function dropSchema(ds: DataSource | undefined, schema: string): Promise<void> {
  if (!ds?.isInitialized) return;
  await ds.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await ds.destroy();
}

/**
 * The real service in this process, on its own schema and consumer group (starting at the
 * outcome topic's end, so that other tests' outcomes are not read), once its store group runs.
 * `DELIVERY_REPORTS_STORE_CONSUMER=false` starts the API alone.
 */
export async function startReports(
  schema: string,
  env: Record<string, string> = {},
): Promise<NestExpressApplication> {
  const app = await startService({
    ...SERVICES.deliveryReports,
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      INSTANCE_ID: uniqueId('reports'),
      DELIVERY_REPORTS_SCHEMA: schema,
      DELIVERY_REPORTS_RUN_MIGRATIONS: 'true',
      DELIVERY_REPORTS_STORE_GROUP_ID: uniqueId('reports-store'),
      DELIVERY_REPORTS_NEW_GROUP_START: 'latest',
      ...env,
    },
  });
  const config = app.get<ServiceConfig<DeliveryReportsEnv>>(ServiceConfig);
  if (config.env.DELIVERY_REPORTS_STORE_CONSUMER) {
    const groups = app.get(KafkaConsumerGroups);
    await waitFor(() => groups.isRestored(STORE_GROUP), {
      what: 'the store group running',
      timeoutMs: 30000,
    });
  }
  return app;
}

/** An outcome of `appId`'s message, with every field settable. */
export function outcome(over: Partial<PushOutcome> = {}): PushOutcome {
  return {
    jobId: randomUUID(),
    messageId: uniqueId('m'),
    appId: DEMO.appId,
    userId: uniqueId('u'),
    deviceId: 'd1',
    provider: 'apns',
    status: 'delivered',
    code: null,
    reason: null,
    attempts: 1,
    latencyMs: 120,
    at: new Date().toISOString(),
    ...over,
  };
}
