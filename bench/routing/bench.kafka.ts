import { ALL_TOPICS, type TopicDefinition } from '@app/contracts';
import { EventProducer, ensureTopics, outbound, type OutboundRecord } from '@app/kafka';
import { Kafka, logLevel, type Admin } from 'kafkajs';

export const benchKafka = (brokers: string[], clientId = 'routing-bench'): Kafka =>
  new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING, retry: { retries: 8 } });

/** Empty contract topics on the benchmark's own broker: delete what a previous run left, recreate. */
export async function freshTopics(admin: Admin, partitions: number): Promise<void> {
  const names = ALL_TOPICS.map((t) => t.name);
  const existing = (await admin.listTopics()).filter((t) => names.includes(t));
  if (existing.length) {
    await admin.deleteTopics({ topics: existing, timeout: 30000 });
    for (let i = 0; i < 100; i++) {
      const left = (await admin.listTopics()).filter((t) => names.includes(t));
      if (left.length === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  for (let i = 0; ; i++) {
    try {
      await ensureTopics(admin, { partitions, replicationFactor: 1 });
      return;
    } catch (e) {
      // Deletion finishes in the background; creating too early fails.
      if (i > 50) throw e;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

/** Produces values in batches, one at a time (kafkajs's idempotent producer needs it). */
export async function produceAll<T>(
  producer: EventProducer,
  topic: TopicDefinition<T, unknown>,
  values: Iterable<T>,
  batch = 2000,
): Promise<number> {
  let buf: OutboundRecord[] = [];
  let n = 0;
  const inFlight: Promise<void>[] = [];
  for (const v of values) {
    buf.push(outbound(topic, v));
    n++;
    if (buf.length >= batch) {
      inFlight.push(producer.send(buf));
      buf = [];
      if (inFlight.length >= 1) await inFlight.shift();
    }
  }
  inFlight.push(producer.send(buf));
  await Promise.all(inFlight);
  return n;
}

/** Sum over partitions of the group's committed offsets on a topic (unset counts as 0). */
export async function committed(admin: Admin, groupId: string, topic: string): Promise<bigint> {
  const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return t.partitions.reduce((a, p) => a + (BigInt(p.offset) > 0n ? BigInt(p.offset) : 0n), 0n);
}

export async function endOffsets(admin: Admin, topic: string): Promise<bigint> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((a, o) => a + BigInt(o.high), 0n);
}

/** Polls until the group committed `target` on the topic; returns the time it took (ms). */
export async function untilCommitted(
  admin: Admin,
  groupId: string,
  topic: string,
  target: bigint,
  since: number,
  timeoutMs = 120000,
): Promise<number> {
  for (;;) {
    if ((await committed(admin, groupId, topic)) >= target) return performance.now() - since;
    if (performance.now() - since > timeoutMs) {
      throw new Error(`${groupId} did not commit ${topic} to ${target} in ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
