import type { DynamicModule, Type } from '@nestjs/common';
import { ConfigModule, type ServiceConfig } from '@app/config';
import { KafkaHealthIndicator, KafkaModule, type KafkaGroupOptions } from '@app/kafka';
import { ObservabilityModule, type ReadinessCheck } from '@app/observability';

/**
 * What every service imports: its config, Kafka, logs, metrics and health. `readiness` adds checks
 * beyond Kafka (the registry's database); `consumers` are the Kafka consumer groups it runs.
 */
export function platformImports(
  config: ServiceConfig,
  extra: {
    readiness?: Type<ReadinessCheck>[];
    imports?: DynamicModule['imports'];
    consumers?: KafkaGroupOptions[];
  } = {},
): NonNullable<DynamicModule['imports']> {
  return [
    ConfigModule.forRoot(config),
    KafkaModule.forRoot({ consumers: extra.consumers }),
    ObservabilityModule.forRoot({
      service: config.service.name,
      logLevel: config.env.LOG_LEVEL,
      readiness: [KafkaHealthIndicator, ...(extra.readiness ?? [])],
      imports: extra.imports,
    }),
  ];
}
