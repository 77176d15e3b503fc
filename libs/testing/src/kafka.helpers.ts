import { defineTopic, type TopicDefinition } from '@app/contracts';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import type { ZodType } from 'zod';

export const brokers = (): string[] => (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

export const testKafka = (clientId = 'test'): Kafka =>
  new Kafka({ clientId, brokers: brokers(), logLevel: logLevel.NOTHING, retry: { retries: 3 } });

export const uniqueId = (prefix = 't'): string => `${prefix}-${randomUUID().slice(0, 8)}`;

/** A throw-away topic with a schema, created on the broker, for library tests. */
export async function createTestTopic<T>(
  admin: Admin,
  schema: ZodType<T, unknown>,
  opts: { partitions?: number; cleanup?: 'delete' | 'compact'; key: (v: T) => string },
): Promise<TopicDefinition<T, unknown>> {
  const name = `test.${uniqueId('topic')}.v1`;
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic: name,
        numPartitions: opts.partitions ?? 1,
        configEntries: [{ name: 'cleanup.policy', value: opts.cleanup ?? 'delete' }],
      },
    ],
  });
  return defineTopic({
    name,
    eventType: name,
    cleanup: opts.cleanup ?? 'delete',
    keySpace: 'user',
    schema,
    key: opts.key,
  });
}

export async function waitFor<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20000);
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${opts.what ?? 'condition'}${last instanceof Error ? `: ${last.message}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 200));
  }
}
