import type { Admin } from 'kafkajs';

/**
 * A consumer group that has never committed on `topic` starts at the topic's end, as Kafka's own
 * `auto.offset.reset=latest` would: a push system's first deployment must not send the week of
 * messages the topic retains. (The Kafka library starts every subscription at the beginning,
 * which state topics need.) Returns whether the offsets were set.
 */
export async function startNewGroupAtEnd(
  admin: Admin,
  groupId: string,
  topic: string,
): Promise<boolean> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  if (committed.partitions.some((p) => Number(p.offset) >= 0)) return false;
  const ends = await admin.fetchTopicOffsets(topic);
  try {
    await admin.setOffsets({
      groupId,
      topic,
      partitions: ends.map((o) => ({ partition: o.partition, offset: o.high })),
    });
    return true;
  } catch {
    // Another instance of the group is already running (it set them, or the group has moved on).
    return false;
  }
}
