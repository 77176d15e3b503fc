/**
 * Creates every topic of libs/contracts (partition count and cleanup policy), idempotently.
 * KAFKA_BROKERS (127.0.0.1:9092), KAFKA_PARTITIONS (12), KAFKA_REPLICATION_FACTOR (1) and the
 * services' Kafka TLS and SASL settings (KAFKA_SSL*, KAFKA_SASL*) are read from the environment.
 */
import { BaseEnvSchema, loadEnv } from '@app/config';
import { createKafkaClient, ensureTopics, KafkaClientEnvSchema } from '@app/kafka';
import { logLevel } from 'kafkajs';

const EnvSchema = KafkaClientEnvSchema.extend(
  BaseEnvSchema.pick({ KAFKA_PARTITIONS: true, KAFKA_REPLICATION_FACTOR: true }).shape,
);

// kafkajs on Node 24: harmless negative-timeout warnings (see docs/decisions.md).
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name !== 'TimeoutNegativeWarning') console.warn(w);
});

async function main(): Promise<void> {
  const env = loadEnv(EnvSchema, { KAFKA_BROKERS: '127.0.0.1:9092', ...process.env });
  const partitions = env.KAFKA_PARTITIONS;
  const replicationFactor = env.KAFKA_REPLICATION_FACTOR;
  const kafka = createKafkaClient(env, 'create-topics', {
    logLevel: logLevel.ERROR,
    retry: { retries: 10 },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { created, existing } = await ensureTopics(admin, { partitions, replicationFactor });
    console.log(
      `topics: ${created.length} created, ${existing.length} already there (${partitions} partitions)`,
    );
  } finally {
    await admin.disconnect();
  }
}

main().catch((e: Error) => {
  console.error(`create-topics failed: ${e.message}`);
  process.exit(1);
});
