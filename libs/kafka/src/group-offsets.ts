import type { Admin } from 'kafkajs';

/**
 * Commits `groupId`'s offsets on `topic` at the topic's current end, so that the group starts
 * there. (kafkajs's `resetOffsets` to latest commits the -1 sentinel, which a group reads as
 * "nothing committed".) Fails while the group has members, or before the topic has leaders.
 */
export async function setGroupOffsetsAtEnd(
  admin: Admin,
  groupId: string,
  topic: string,
): Promise<void> {
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.setOffsets({
    groupId,
    topic,
    partitions: ends.map((o) => ({ partition: o.partition, offset: o.high })),
  });
}

/**
 * A consumer group that has never committed on `topic` starts at the topic's end, as Kafka's own
 * `auto.offset.reset=latest` would (kafkajs's subscription starts a new group at the beginning,
 * which state topics need). Returns whether the offsets were set.
 */
export async function startNewGroupAtEnd(
  admin: Admin,
  groupId: string,
  topic: string,
): Promise<boolean> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  if (committed.partitions.some((p) => Number(p.offset) >= 0)) return false;
  try {
    await setGroupOffsetsAtEnd(admin, groupId, topic);
    return true;
  } catch {
    // Another instance of the group is already running (it set them, or the group has moved on).
    return false;
  }
}
