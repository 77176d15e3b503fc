/**
 * Finds or starts the real Kafka and PostgreSQL the integration tests need:
 * given KAFKA_BROKERS/DATABASE_URL → use them; else a Docker engine → testcontainers; else the
 * project's own infra script (no Docker).
 */
import { execFileSync } from 'node:child_process';

const DEFAULT_DB = 'postgres://push:push@127.0.0.1:5432/push';

function dockerAnswers(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

export default async function globalSetup(): Promise<void> {
  process.env.PUSH_APPS_FILE ??= `${__dirname}/../../deploy/local/apps.yaml`;
  if (process.env.KAFKA_BROKERS && process.env.DATABASE_URL) {
    process.env.PUSH_TEST_INFRA = 'external';
    return;
  }
  if (dockerAnswers()) {
    const { KafkaContainer } = await import('@testcontainers/kafka');
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    // Confluent Platform 8.x is Apache Kafka 4.x in KRaft mode, the image this module drives.
    const kafka = await new KafkaContainer('confluentinc/cp-kafka:8.1.0')
      .withEnvironment({
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      })
      .start();
    const pg = await new PostgreSqlContainer('postgres:17-alpine')
      .withDatabase('push')
      .withUsername('push')
      .withPassword('push')
      .start();
    process.env.KAFKA_BROKERS = `${kafka.getHost()}:${kafka.getMappedPort(9093)}`;
    process.env.DATABASE_URL = pg.getConnectionUri();
    process.env.PUSH_TEST_INFRA = 'docker';
    process.env.PUSH_TEST_KAFKA_CONTAINER = kafka.getId();
    (globalThis as Record<string, unknown>).__containers = [kafka, pg];
    const { Kafka, logLevel } = await import('kafkajs');
    const { ensureTopics } = await import('../../libs/kafka/src');
    const admin = new Kafka({
      brokers: [process.env.KAFKA_BROKERS],
      logLevel: logLevel.ERROR,
    }).admin();
    await admin.connect();
    await ensureTopics(admin, { partitions: 12, replicationFactor: 1 });
    await admin.disconnect();
    return;
  }
  process.env.KAFKA_BROKERS ??= '127.0.0.1:9092';
  process.env.DATABASE_URL ??= DEFAULT_DB;
  execFileSync('bash', [`${__dirname}/../../deploy/local/infra.sh`, 'up'], {
    stdio: 'inherit',
    env: process.env,
  });
  process.env.PUSH_TEST_INFRA = 'local';
}
