import { postgresDataSourceOptions, type DatabaseConnectionEnv } from '@app/database';
import type { DataSourceOptions, Logger as TypeOrmLogger } from 'typeorm';
import { DeviceEntity } from '../devices/device.entity';
import { OutboxEntryEntity } from '../outbox/outbox-entry.entity';
import { PushUserEntity } from '../users/push-user.entity';
import { RegistrySchema1764136800000 } from './migrations/1764136800000-registry-schema';
import { OutboxUnsentById1764140400000 } from './migrations/1764140400000-outbox-unsent-by-id';
import { ValuesWithinContract1764658800000 } from './migrations/1764658800000-values-within-contract';
import { LiveActivityPushType1764900000000 } from './migrations/1764900000000-live-activity-push-type';
import { UserPrivacy1795971600000 } from './migrations/1795971600000-user-privacy';
import { UserTagsAttributes1796000000000 } from './migrations/1796000000000-user-tags-attributes';

/** Listed, not globbed: the service is bundled by webpack, where a file glob finds nothing. */
export const REGISTRY_ENTITIES = [PushUserEntity, DeviceEntity, OutboxEntryEntity];
export const REGISTRY_MIGRATIONS = [
  RegistrySchema1764136800000,
  OutboxUnsentById1764140400000,
  ValuesWithinContract1764658800000,
  LiveActivityPushType1764900000000,
  UserPrivacy1795971600000,
  UserTagsAttributes1796000000000,
];

/**
 * The one place the registry's database settings are spelt out (service, CLI commands, bench);
 * the rest is shared (`postgresDataSourceOptions`).
 */
export function registryDataSourceOptions(
  env: DatabaseConnectionEnv,
  extra: { logger?: TypeOrmLogger; runMigrations?: boolean } = {},
): DataSourceOptions {
  return postgresDataSourceOptions(
    env,
    {
      entities: REGISTRY_ENTITIES,
      migrations: REGISTRY_MIGRATIONS,
      migrationsTableName: 'registry_migrations',
    },
    extra,
  );
}
