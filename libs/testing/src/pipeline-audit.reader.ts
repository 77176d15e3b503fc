import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';

/** One record as the audit reads it (read_committed: aborted records and markers never appear). */
export interface AuditRecord {
  topic: string;
  partition: number;
  offset: string;
  /** Record timestamp (ms since the epoch, producer time). */
  timestamp: number;
  key: string | null;
  value: Buffer | null;
}

/** Where reading starts on one topic: an offset per partition, or the first record at a time. */
export type StartAt = { offsets: Record<number, string> } | { timestamp: number } | 'earliest';

export interface ReadWindowOptions {
  topics: Record<string, StartAt>;
  /** Where reading stops per topic (exclusive); default: each partition's end when reading starts. */
  stopAt?: Record<string, Record<number, string>>;
  /** Give up on partitions that made no progress for this long (open transactions). */
  idleTimeoutMs?: number;
  /** Give up altogether after this long. */
  timeoutMs?: number;
}

export interface ReadWindowResult {
  records: AuditRecord[];
  /** Per topic and partition: where reading started and where it had to reach. */
  ranges: Record<string, Record<number, { from: string; to: string }>>;
  /** `topic:partition` that were not read up to their end (open transaction, timeout). */
  incomplete: string[];
}

/** Per partition: the offset a time corresponds to (the partition's end if nothing is that recent). */
export async function offsetsAt(
  admin: Admin,
  topic: string,
  timestamp: number,
): Promise<Record<number, string>> {
  const list = await admin.fetchTopicOffsetsByTimestamp(topic, timestamp);
  return Object.fromEntries(list.map((p) => [p.partition, String(p.offset)]));
}

/** Per partition: the end (next offset to be written; for read_committed readers, what is stable). */
export async function endOffsets(admin: Admin, topic: string): Promise<Record<number, string>> {
  const list = await admin.fetchTopicOffsets(topic);
  return Object.fromEntries(list.map((p) => [p.partition, p.high]));
}

async function startOffsets(
  admin: Admin,
  topic: string,
  at: StartAt,
): Promise<Record<number, string>> {
  if (at === 'earliest') {
    const list = await admin.fetchTopicOffsets(topic);
    return Object.fromEntries(list.map((p) => [p.partition, p.low]));
  }
  if ('timestamp' in at) return offsetsAt(admin, topic, at.timestamp);
  const low = Object.fromEntries(
    (await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.low]),
  );
  const out: Record<number, string> = {};
  for (const [p, lowest] of Object.entries(low)) {
    const given = at.offsets[Number(p)];
    out[Number(p)] = given !== undefined && BigInt(given) > BigInt(lowest) ? given : lowest;
  }
  return out;
}

/**
 * Reads a window of several topics, read_committed, in a throw-away consumer group that seeks each
 * partition to the window's start once it joined (and drops anything before it). Stops when every
 * partition reached its end as it stood when reading began (transaction markers count: kafkajs
 * reports them through END_BATCH_PROCESS), or when a partition stops moving. (kafkajs's
 * `admin.setOffsets` would avoid the seek but joins a group per topic: 5 s each.)
 */
export async function readWindow(kafka: Kafka, opts: ReadWindowOptions): Promise<ReadWindowResult> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `pipeline-audit-${randomUUID()}`;
  const ranges: ReadWindowResult['ranges'] = {};
  const remaining = new Map<string, bigint>(); // topic:partition → offset to reach
  const starts = new Map<string, bigint>(); // topic:partition → first offset of the window
  try {
    for (const [topic, at] of Object.entries(opts.topics)) {
      const from = await startOffsets(admin, topic, at);
      const to = opts.stopAt?.[topic] ?? (await endOffsets(admin, topic));
      ranges[topic] = {};
      for (const [p, start] of Object.entries(from)) {
        const end = to[Number(p)] ?? start;
        ranges[topic][Number(p)] = { from: start, to: end };
        starts.set(`${topic}:${p}`, BigInt(start));
        if (BigInt(end) > BigInt(start)) remaining.set(`${topic}:${p}`, BigInt(end));
      }
    }
  } catch (e) {
    await admin.disconnect();
    throw e;
  }
  const records: AuditRecord[] = [];
  if (remaining.size === 0) {
    await admin.disconnect();
    return { records, ranges, incomplete: [] };
  }
  const consumer = kafka.consumer({
    groupId,
    readUncommitted: false,
    maxWaitTimeInMs: 250,
    maxBytesPerPartition: 8 * 1024 * 1024,
    maxBytes: 64 * 1024 * 1024,
    sessionTimeout: 30000,
    retry: { retries: 10 },
  });
  let lastProgress = Date.now();
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const advance = (topic: string, partition: number, next: bigint) => {
    const key = `${topic}:${partition}`;
    const target = remaining.get(key);
    if (target === undefined) return;
    lastProgress = Date.now();
    if (next >= target) remaining.delete(key);
    if (remaining.size === 0) finish();
  };
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    const { topic, partition, lastOffset } = e.payload;
    advance(topic, partition, BigInt(lastOffset) + 1n);
  });
  await consumer.connect();
  await consumer.subscribe({ topics: Object.keys(opts.topics), fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: 4,
    eachBatch: async ({ batch }) => {
      const key = `${batch.topic}:${batch.partition}`;
      const target = remaining.get(key);
      if (target === undefined) return;
      const start = starts.get(key) ?? 0n;
      for (const m of batch.messages) {
        const offset = BigInt(m.offset);
        if (offset < start) continue;
        if (offset >= target) break;
        records.push({
          topic: batch.topic,
          partition: batch.partition,
          offset: m.offset,
          timestamp: Number(m.timestamp),
          key: m.key ? m.key.toString('utf8') : null,
          value: m.value,
        });
      }
    },
  });
  for (const [key, start] of starts) {
    if (!remaining.has(key)) continue;
    const cut = key.lastIndexOf(':');
    consumer.seek({
      topic: key.slice(0, cut),
      partition: Number(key.slice(cut + 1)),
      offset: start.toString(),
    });
  }
  const started = Date.now();
  const idle = opts.idleTimeoutMs ?? 15000;
  const total = opts.timeoutMs ?? 300000;
  const timer = setInterval(() => {
    if (Date.now() - lastProgress > idle || Date.now() - started > total) finish();
  }, 250);
  await finished;
  clearInterval(timer);
  await consumer.disconnect();
  await admin.deleteGroups([groupId]).catch(() => undefined);
  await admin.disconnect();
  return { records, ranges, incomplete: [...remaining.keys()] };
}

/** The consumer groups of the platform and what each consumes (their lag is checked). */
export const PLATFORM_GROUPS: Record<string, string[]> = {
  'routing-fanout': ['im.message.sent.v1'],
  'routing-decide': ['push.intent.v1'],
  'apns-dispatcher': ['push.apns.request.v1', 'push.apns.retry.v1'],
  'fcm-dispatcher': ['push.fcm.request.v1', 'push.fcm.retry.v1'],
  presence: ['presence.device-event.v1'],
  'token-registry-invalidation': ['token.invalidated.v1'],
};

export interface GroupLag {
  group: string;
  topic: string;
  partition: number;
  committed: string;
  end: string;
  /** Records after the committed offset that a read_committed consumer would still get. */
  pending: number;
}

/**
 * The lag of each consumer group that exists on the broker, in records still to consume: the
 * distance from the committed offset to the end counts transaction markers and aborted records
 * too, so partitions with a distance are read (read_committed) to count what is really left.
 */
export async function consumerLag(
  kafka: Kafka,
  groups: Record<string, string[]> = PLATFORM_GROUPS,
): Promise<GroupLag[]> {
  const admin = kafka.admin();
  await admin.connect();
  const out: GroupLag[] = [];
  const toRead: Record<string, Record<number, string>> = {};
  try {
    const existing = new Set((await admin.listGroups()).groups.map((g) => g.groupId));
    for (const [group, topics] of Object.entries(groups)) {
      if (!existing.has(group)) continue;
      const committed = await admin.fetchOffsets({ groupId: group, topics });
      for (const t of committed) {
        const ends = await admin.fetchTopicOffsets(t.topic);
        for (const p of t.partitions) {
          const end = ends.find((e) => e.partition === p.partition);
          if (!end) continue;
          const from = BigInt(p.offset) >= 0n ? p.offset : end.low;
          const row: GroupLag = {
            group,
            topic: t.topic,
            partition: p.partition,
            committed: p.offset,
            end: end.high,
            pending: 0,
          };
          out.push(row);
          if (BigInt(end.high) > BigInt(from)) {
            const cur = (toRead[t.topic] ??= {});
            const prev = cur[p.partition];
            if (prev === undefined || BigInt(from) < BigInt(prev)) cur[p.partition] = from;
          }
        }
      }
    }
  } finally {
    await admin.disconnect();
  }
  const topics = Object.keys(toRead);
  if (topics.length === 0) return out;
  const read = await readWindow(kafka, {
    topics: Object.fromEntries(topics.map((t) => [t, { offsets: toRead[t] }])),
    idleTimeoutMs: 5000,
    timeoutMs: 60000,
  });
  for (const row of out) {
    const from = BigInt(row.committed) >= 0n ? BigInt(row.committed) : -1n;
    row.pending = read.records.filter(
      (r) => r.topic === row.topic && r.partition === row.partition && BigInt(r.offset) >= from,
    ).length;
  }
  return out;
}
