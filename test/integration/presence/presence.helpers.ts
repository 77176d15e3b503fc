import type { NestExpressApplication } from '@nestjs/platform-express';
import { TOPICS } from '@app/contracts';
import { startNewGroupAtEnd } from '@app/kafka';
import { startService } from '@app/testing';
import { Kafka, logLevel } from 'kafkajs';
import { SERVICES } from '../services';

/**
 * Starts presence in this process. A group that has never committed starts at the end of the
 * shared device-event topic (`newGroupAtEnd`, default on): otherwise every test's new group would
 * first read, and dead-letter as UNKNOWN_APP, every event other runs left there (the topic keeps a
 * week), and time-sensitive tests would race that backlog. Off for a broker that is not up yet.
 */
export async function startPresence(
  env: Record<string, string>,
  opts: { newGroupAtEnd?: boolean } = {},
): Promise<NestExpressApplication> {
  const all: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', ...env };
  if (opts.newGroupAtEnd ?? true) {
    const brokers = (all.KAFKA_BROKERS ?? '').split(',');
    const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await startNewGroupAtEnd(kafka, admin, all.PRESENCE_CONSUMER_GROUP ?? 'presence', [
        TOPICS.presenceDeviceEvent.name,
      ]);
    } finally {
      await admin.disconnect();
    }
  }
  return startService({ ...SERVICES.presence, env: all });
}
