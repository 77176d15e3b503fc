/**
 * Creates every topic of libs/contracts (partition count and cleanup policy), idempotently.
 * KAFKA_BROKERS, KAFKA_PARTITIONS (12) and KAFKA_REPLICATION_FACTOR (1) are read from the environment.
 */
import { Kafka, logLevel } from 'kafkajs';
import { ensureTopics } from '@app/kafka';

// kafkajs on Node 24: harmless negative-timeout warnings (see docs/decisions.md).
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name !== 'TimeoutNegativeWarning') console.warn(w);
});

async function main(): Promise<void> {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const partitions = Number(process.env.KAFKA_PARTITIONS ?? 12);
  const replicationFactor = Number(process.env.KAFKA_REPLICATION_FACTOR ?? 1);
  const kafka = new Kafka({
    clientId: 'create-topics',
    brokers,
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
