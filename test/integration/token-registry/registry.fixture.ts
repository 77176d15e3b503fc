import type { INestApplication } from '@nestjs/common';
import { buildServiceConfig } from '@app/config';
import { createServiceApp, startServiceApp } from '@app/http';
import { uniqueId, waitFor } from '@app/testing';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { TokenRegistryAppModule } from '@apps/token-registry/app.module';
import { migrateRegistry } from '@apps/token-registry/database/migrate';
import { registryDataSourceOptions } from '@apps/token-registry/database/registry-data-source';
import { RegistryEnvSchema } from '@apps/token-registry/registry-env.schema';

export const DEMO = { appId: 'demo', auth: 'Bearer demo-api-key' };
export const OTHER = { appId: 'other', auth: 'Bearer other-api-key' };

export const apnsToken = (): string => randomBytes(32).toString('hex');
export const fcmToken = (): string =>
  `${randomBytes(11).toString('base64url')}:APA91b${randomBytes(100).toString('base64url')}`;

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
export async function startRegistry(env: Record<string, string> = {}): Promise<INestApplication> {
  const config = buildServiceConfig({ name: 'token-registry', defaultPort: 0 }, RegistryEnvSchema, {
    ...process.env,
    LOG_LEVEL: 'warn',
    INSTANCE_ID: uniqueId('registry'),
    ...env,
  });
  const app = await createServiceApp(config, {
    module: (c) => TokenRegistryAppModule.forRoot(c),
    bodyLimit: '64kb',
  });
  await startServiceApp(app);
  return app;
}

/**
 * Collects what is written to a topic from now on: the end offsets are read first and the
 * consumer seeks to them, so nothing written after `tailTopic` returns is missed.
 */
export async function tailTopic(
  kafka: Kafka,
  topic: string,
): Promise<{ messages: KafkaMessage[]; stop: () => Promise<void> }> {
  const admin = kafka.admin();
  await admin.connect();
  // Retried: on a broker just started, partition leaders may still be being elected.
  const ends = await waitFor(() => admin.fetchTopicOffsets(topic), { what: `${topic} offsets` });
  await admin.disconnect();
  const consumer = kafka.consumer({ groupId: uniqueId('tail'), maxWaitTimeInMs: 100 });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  let assigned!: () => void;
  const ready = new Promise<void>((r) => (assigned = r));
  let joined = false;
  // Seek once the group is joined: right after run() on a broker just started, the first join can
  // fail and kafkajs restarts the consumer, when a seek would throw.
  consumer.on(consumer.events.GROUP_JOIN, () => {
    if (joined) return;
    joined = true;
    for (const p of ends) consumer.seek({ topic, partition: p.partition, offset: p.offset });
    assigned();
  });
  await consumer.run({ eachMessage: async ({ message }) => void messages.push(message) });
  await ready;
  return { messages, stop: () => consumer.disconnect() };
}
