import { Module, type DynamicModule } from '@nestjs/common';
import type { ServiceConfig } from '@app/config';
import { platformImports } from '@app/http';

@Module({})
export class ApnsDispatcherAppModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return { module: ApnsDispatcherAppModule, imports: platformImports(config) };
  }
}
