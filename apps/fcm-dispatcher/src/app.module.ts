import { Module, type DynamicModule } from '@nestjs/common';
import type { ServiceConfig } from '@app/config';
import { platformImports } from '@app/http';

@Module({})
export class FcmDispatcherAppModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return { module: FcmDispatcherAppModule, imports: platformImports(config) };
  }
}
