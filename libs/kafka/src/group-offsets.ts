import type { Admin, Kafka } from 'kafkajs';

/** Offsets to commit for one topic's partitions. */
export interface TopicOffsets {
  topic: string;
  partitions: Array<{ partition: number; offset: string }>;
}

/** Fetches of the committing consumer return this soon when there is nothing to read. */
const COMMIT_FETCH_WAIT_MS = 50;

/**
 * Commits a consumer group's offsets on any number of topics in one join of the group: a
 * consumer of the group subscribes to them all, pauses them, seeks every partition (kafkajs
 * commits a seek at once) and leaves after its first fetch. Fails while the group has running
 * members. (kafkajs's `admin.setOffsets` joins once per topic and waits out a full 5 s fetch at
 * the end of the topic each time: 5 s per topic for every new group.)
 */
export async function commitGroupOffsets(
  kafka: Kafka,
  groupId: string,
  offsets: readonly TopicOffsets[],
): Promise<void> {
  if (offsets.length === 0) return;
  const consumer = kafka.consumer({
    groupId,
    maxWaitTimeInMs: COMMIT_FETCH_WAIT_MS,
    allowAutoTopicCreation: false,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: offsets.map((o) => o.topic), fromBeginning: true });
    const { state } = await consumer.describeGroup();
    if (state !== 'Empty' && state !== 'Dead') {
      throw new Error(`consumer group ${groupId} has running members (state ${state})`);
    }
    await new Promise<void>((resolve, reject) => {
      const off = consumer.on(consumer.events.FETCH, () => {
        off();
        resolve();
      });
      consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
      // run() creates the group's state synchronously, so pause and seek may follow at once;
      // the seeks are committed when the partitions are assigned, before the first fetch.
      consumer.run({ eachBatchAutoResolve: false, eachBatch: async () => undefined }).catch(reject);
      consumer.pause(offsets.map((o) => ({ topic: o.topic })));
      for (const o of offsets) {
        for (const p of o.partitions) {
          consumer.seek({ topic: o.topic, partition: p.partition, offset: p.offset });
        }
      }
    });
  } finally {
    await consumer.disconnect();
  }
}

/**
 * Commits `groupId`'s offsets on each topic at the topic's current end, so that the group starts
 * there, in one join of the group. (kafkajs's `resetOffsets` to latest commits the -1 sentinel,
 * which a group reads as "nothing committed".) Fails while the group has members, or before the
 * topics have leaders.
 */
export async function setGroupOffsetsAtEnd(
  kafka: Kafka,
  admin: Admin,
  groupId: string,
  topics: string | readonly string[],
): Promise<void> {
  const list = typeof topics === 'string' ? [topics] : topics;
  const offsets = await Promise.all(
    list.map(async (topic) => ({
      topic,
      partitions: (await admin.fetchTopicOffsets(topic)).map((o) => ({
        partition: o.partition,
        offset: o.high,
      })),
    })),
  );
  await commitGroupOffsets(kafka, groupId, offsets);
}

/**
 * A consumer group starts at the end of each of `topics` it has never committed on, as Kafka's own
 * `auto.offset.reset=latest` would (kafkajs's subscription starts a new group at the beginning,
 * which state topics need). Returns the topics whose offsets were set.
 */
export async function startNewGroupAtEnd(
  kafka: Kafka,
  admin: Admin,
  groupId: string,
  topics: readonly string[],
): Promise<string[]> {
  if (topics.length === 0) return [];
  const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
  const fresh = committed
    .filter((t) => !t.partitions.some((p) => Number(p.offset) >= 0))
    .map((t) => t.topic);
  if (fresh.length === 0) return [];
  try {
    await setGroupOffsetsAtEnd(kafka, admin, groupId, fresh);
    return fresh;
  } catch {
    // Another instance of the group is already running (it set them, or the group has moved on).
    return [];
  }
}
