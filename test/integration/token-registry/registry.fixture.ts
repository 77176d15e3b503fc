import type { NestExpressApplication } from '@nestjs/platform-express';
import { startService, uniqueId } from '@app/testing';
import { DataSource } from 'typeorm';
import { migrateRegistry } from '@apps/token-registry/database/migrate';
import { registryDataSourceOptions } from '@apps/token-registry/database/registry-data-source';
import { SERVICES } from '../services';

export const DEMO = { appId: 'demo', auth: 'Bearer demo-api-key' };
export const OTHER = { appId: 'other', auth: 'Bearer other-api-key' };

export const databaseUrl = (): string => process.env.DATABASE_URL!;

/** Applies the registry's migrations (what the Kubernetes Job does), then a plain DataSource. */
export async function migratedDataSource(): Promise<DataSource> {
  await migrateRegistry({ DATABASE_URL: databaseUrl() });
  const ds = new DataSource(
    registryDataSourceOptions({ DATABASE_URL: databaseUrl(), DATABASE_POOL_SIZE: 4 }),
  );
  return ds.initialize();
}

/** The real registry application (not listening; supertest drives its HTTP server). */
export function startRegistry(env: Record<string, string> = {}): Promise<NestExpressApplication> {
  return startService({
    ...SERVICES.tokenRegistry,
    env: { ...process.env, LOG_LEVEL: 'warn', INSTANCE_ID: uniqueId('registry'), ...env },
  });
}
