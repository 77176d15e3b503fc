import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { UpstreamModule } from './upstream.module';

/**
 * The example upstream as a process:
 *   KAFKA_BROKERS=127.0.0.1:9092 npx tsx examples/upstream-nest/src/main.ts
 * (tsx emits no decorator metadata: every constructor injection here names its token).
 */
async function main(): Promise<void> {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const app = await NestFactory.create(UpstreamModule.forRoot({ brokers }));
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3100);
  await app.listen(port, '127.0.0.1');
  new Logger('upstream-nest').log(`listening on 127.0.0.1:${port}, Kafka at ${brokers.join(',')}`);
}

void main();
