import { defineTopic, type TopicDefinition } from '@app/contracts';
import { Kafka, logLevel, type Admin, type KafkaMessage } from 'kafkajs';
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

export interface ReadOptions {
  /** Stop once this many records were read. */
  count: number;
  timeoutMs?: number;
  readUncommitted?: boolean;
}

/** Reads a topic from the beginning in a fresh group until `count` records arrived (or times out). */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  opts: ReadOptions,
): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({
    groupId: uniqueId('reader'),
    readUncommitted: opts.readUncommitted ?? false,
  });
  const out: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  await consumer.run({
    eachMessage: async ({ message }) => {
      out.push(message);
      if (out.length >= opts.count) done();
    },
  });
  const timer = setTimeout(done, opts.timeoutMs ?? 15000);
  await finished;
  clearTimeout(timer);
  await consumer.disconnect();
  return out;
}

/** Records that arrive within `ms` (for asserting that nothing more arrives). */
export async function readFor(
  kafka: Kafka,
  topic: string,
  ms: number,
  readUncommitted = false,
): Promise<KafkaMessage[]> {
  return readTopic(kafka, topic, {
    count: Number.MAX_SAFE_INTEGER,
    timeoutMs: ms,
    readUncommitted,
  });
}

export const json = <T = unknown>(m: KafkaMessage): T => JSON.parse(m.value!.toString('utf8')) as T;

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
