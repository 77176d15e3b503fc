import { ALL_TOPICS, type TopicDefinition } from '@app/contracts';
import type { Admin, ITopicConfig, Kafka } from 'kafkajs';

export interface TopicLayout {
  partitions: number;
  replicationFactor: number;
}

/** A topic of a shared key space with another partition count: no retry fixes it. */
export class PartitionCountMismatchError extends Error {
  override readonly name = 'PartitionCountMismatchError';
}

/** Connects an admin client, runs `fn`, and always disconnects it. */
export async function withAdmin<T>(
  kafka: Pick<Kafka, 'admin'>,
  fn: (admin: Admin) => Promise<T>,
): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** What creating and checking a topic needs of its definition (any value type). */
export type TopicShape = Pick<
  TopicDefinition<never, never>,
  'name' | 'cleanup' | 'keySpace' | 'config'
>;

export function topicConfigFor(def: TopicShape, layout: TopicLayout): ITopicConfig {
  return {
    topic: def.name,
    numPartitions: layout.partitions,
    replicationFactor: layout.replicationFactor,
    configEntries: Object.entries({ 'cleanup.policy': def.cleanup, ...def.config }).map(
      ([name, value]) => ({ name, value }),
    ),
  };
}

/**
 * Creates every missing topic of the contracts and checks the existing ones: a co-partitioned topic
 * with another partition count would break the routing's per-partition state, so it is an error.
 */
export async function ensureTopics(
  admin: Admin,
  layout: TopicLayout,
  defs: ReadonlyArray<TopicShape> = ALL_TOPICS,
): Promise<{ created: string[]; existing: string[] }> {
  const existingNames = new Set(await admin.listTopics());
  const missing = defs.filter((d) => !existingNames.has(d.name));
  if (missing.length) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((d) => topicConfigFor(d, layout)),
    });
  }
  const present = defs.filter((d) => existingNames.has(d.name));
  if (present.length) {
    const meta = await admin.fetchTopicMetadata({ topics: present.map((d) => d.name) });
    const wrong = meta.topics.filter(
      (t) =>
        defs.find((d) => d.name === t.name)?.keySpace !== 'source' &&
        t.partitions.length !== layout.partitions,
    );
    if (wrong.length) {
      throw new PartitionCountMismatchError(
        `partition count differs from KAFKA_PARTITIONS=${layout.partitions}: ` +
          wrong.map((t) => `${t.name} has ${t.partitions.length}`).join(', '),
      );
    }
  }
  return { created: missing.map((d) => d.name), existing: present.map((d) => d.name) };
}
