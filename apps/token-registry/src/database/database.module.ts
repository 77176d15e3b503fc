import { Global, Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { RegistryEnv } from '../registry-env.schema';
import { DatabaseHealthIndicator } from './database.health';
import { registryDataSourceOptions } from './registry-data-source';

@Global()
@Module({})
export class DatabaseModule {
  static forRoot(env: RegistryEnv): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TerminusModule,
        TypeOrmModule.forRoot({
          ...registryDataSourceOptions(env, { runMigrations: env.REGISTRY_RUN_MIGRATIONS }),
          // Keep retrying at boot: the registry starts even while PostgreSQL is still coming up.
          retryAttempts: Number.MAX_SAFE_INTEGER,
          retryDelay: 2000,
        }),
      ],
      providers: [DatabaseHealthIndicator],
      exports: [DatabaseHealthIndicator],
    };
  }
}
