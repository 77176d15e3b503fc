/**
 * Takes dead letters back to the topics they came from: the original bytes, key and headers.
 *
 *   npm run replay:dead-letters -- [--code CODE,...] [--topic SOURCE_TOPIC,...]
 *     [--since 1h|<ISO time>|<epoch ms>] [--until <same>] [--limit N] [--force] [--execute] [--json]
 *
 * Reads push.dead-letter.v1 (read_committed) from `--since` (default: 24 hours ago) up to where it
 * ends when the run starts, keeps the letters whose `error.code` and `source.topic` match (every
 * one when not given) and whose record time is not after `--until`, and decodes each value per its
 * `valueEncoding`. **Dry run by default**: prints what would be replayed and what is refused.
 * With `--execute` it produces each letter's original value to `source.topic`, partition
 * `source.partition` (the partitioner's choice for the key when that partition no longer exists),
 * with `source.key` and the letter's headers plus `x-dead-letter-replay: <partition>:<offset>` of
 * the letter (idempotent producer, acks=all), in dead-letter order.
 *
 * Refused unless `--force`: letters cut to fit (`truncated`: only the first bytes are kept),
 * letters whose device tokens were hashed (`redacted`: the value is not the original), and keys
 * of 1,024 characters (possibly cut). Always refused: letters without a value, and letters of
 * push.dead-letter.v1 itself. A replayed record that fails again is dead-lettered again: fix the
 * cause first (docs/operations.md#replaying-dead-letters).
 *
 * Kafka settings as the services read them (KAFKA_BROKERS, KAFKA_SSL*, KAFKA_SASL*).
 * Exit code 0 when every selected letter was (or would be) replayed, 1 when some were refused,
 * 2 when the run failed.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadEnv } from '@app/config';
import { DeadLetterSchema, TOPICS, type DeadLetter } from '@app/contracts';
import { createKafkaClient, KafkaClientEnvSchema } from '@app/kafka';
import { logLevel, Partitioners, type IHeaders, type Kafka } from 'kafkajs';
import { parseTime } from './time-arg';

export const REPLAY_HEADER = 'x-dead-letter-replay';
/** Keys are cut to this many characters in a dead letter (libs/kafka dead-letter.util.ts). */
const MAX_KEY_CHARS = 1024;

export interface ReplayOptions {
  /** Error codes to replay (`error.code`); all when empty. */
  codes?: string[];
  /** Source topics to replay (`source.topic`); all when empty. */
  topics?: string[];
  /** Epoch ms: letters written from then on (record time). */
  since: number;
  /** Epoch ms: letters written after this are left (record time). */
  until?: number;
  /** Replay at most this many letters (the first ones). */
  limit?: number;
  force?: boolean;
  /** Produce; without it nothing is written. */
  execute?: boolean;
  /** Give up reading after this long without progress (ms). */
  idleTimeoutMs?: number;
}

export type RefusalReason =
  'invalid_letter' | 'no_value' | 'dead_letter_topic' | 'truncated' | 'redacted' | 'key_maybe_cut';

export interface LetterSummary {
  /** Where the letter is: `partition:offset` of push.dead-letter.v1. */
  letter: string;
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  code: string;
  at: string;
  bytes: number;
  refused?: RefusalReason[];
}

export interface ReplayReport {
  execute: boolean;
  /** Dead letters read in the window. */
  read: number;
  /** Letters matching the filters. */
  selected: number;
  replayed: LetterSummary[];
  refused: LetterSummary[];
  /** Partitions of push.dead-letter.v1 not read to their end (no progress within the timeout). */
  incomplete: string[];
}

/** The original value of a letter, as bytes (null when the letter holds none). */
export function originalValue(l: DeadLetter): Buffer | null {
  if (l.value === null) return null;
  return l.valueEncoding === 'base64'
    ? Buffer.from(l.value, 'base64')
    : Buffer.from(l.value, 'utf8');
}

/** Why a letter cannot be replayed as it is (empty when it can). */
export function refusals(l: DeadLetter, force = false): RefusalReason[] {
  const out: RefusalReason[] = [];
  if (l.value === null) out.push('no_value');
  if (l.source.topic === TOPICS.deadLetter.name) out.push('dead_letter_topic');
  if (!force) {
    if (l.truncated) out.push('truncated');
    if (l.redacted) out.push('redacted');
    if ((l.source.key?.length ?? 0) >= MAX_KEY_CHARS) out.push('key_maybe_cut');
  }
  return out;
}

interface ReadLetter {
  partition: number;
  offset: string;
  timestamp: number;
  letter: DeadLetter | undefined;
}

/** Reads push.dead-letter.v1 from `since` to its end as it stands now (throw-away group). */
async function readLetters(
  kafka: Kafka,
  since: number,
  idleTimeoutMs: number,
  /** Only the letters kept are held in memory. */
  keep: (r: ReadLetter) => boolean,
): Promise<{ letters: ReadLetter[]; read: number; incomplete: string[] }> {
  const topic = TOPICS.deadLetter.name;
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `replay-dead-letters-${randomUUID()}`;
  const starts = new Map<number, bigint>();
  const remaining = new Map<number, bigint>();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    for (const s of await admin.fetchTopicOffsetsByTimestamp(topic, since)) {
      const end = BigInt(ends.find((e) => e.partition === s.partition)?.high ?? s.offset);
      starts.set(s.partition, BigInt(s.offset));
      if (end > BigInt(s.offset)) remaining.set(s.partition, end);
    }
  } catch (e) {
    await admin.disconnect();
    throw e;
  }
  const letters: ReadLetter[] = [];
  let read = 0;
  if (remaining.size === 0) {
    await admin.disconnect();
    return { letters, read, incomplete: [] };
  }
  const consumer = kafka.consumer({
    groupId,
    readUncommitted: false,
    maxWaitTimeInMs: 250,
    maxBytesPerPartition: 8 * 1024 * 1024,
    sessionTimeout: 30000,
  });
  let lastProgress = Date.now();
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  // END_BATCH_PROCESS also covers batches of transaction markers only.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const target = remaining.get(payload.partition);
    if (target === undefined || payload.topic !== topic) return;
    lastProgress = Date.now();
    if (BigInt(payload.lastOffset) + 1n >= target) remaining.delete(payload.partition);
    if (remaining.size === 0) finish();
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const target = remaining.get(batch.partition);
        const start = starts.get(batch.partition) ?? 0n;
        if (target === undefined) return;
        for (const m of batch.messages) {
          const offset = BigInt(m.offset);
          if (offset < start) continue;
          if (offset >= target) break;
          let letter: DeadLetter | undefined;
          try {
            const parsed = DeadLetterSchema.safeParse(JSON.parse(m.value?.toString('utf8') ?? ''));
            letter = parsed.success ? parsed.data : undefined;
          } catch {
            letter = undefined;
          }
          const r = {
            partition: batch.partition,
            offset: m.offset,
            timestamp: Number(m.timestamp),
            letter,
          };
          read++;
          if (keep(r)) letters.push(r);
        }
      },
    });
    for (const [partition, offset] of starts) {
      if (remaining.has(partition)) consumer.seek({ topic, partition, offset: offset.toString() });
    }
    const timer = setInterval(() => {
      if (Date.now() - lastProgress > idleTimeoutMs) finish();
    }, 250);
    await finished;
    clearInterval(timer);
  } finally {
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  // Dead-letter order: by record time, then partition and offset.
  letters.sort(
    (a, b) =>
      a.timestamp - b.timestamp ||
      a.partition - b.partition ||
      (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1),
  );
  return { letters, read, incomplete: [...remaining.keys()].map((p) => `${topic}:${p}`) };
}

const summary = (r: ReadLetter, l: DeadLetter, refused?: RefusalReason[]): LetterSummary => ({
  letter: `${r.partition}:${r.offset}`,
  topic: l.source.topic,
  partition: l.source.partition,
  offset: l.source.offset,
  key: l.source.key,
  code: l.error.code,
  at: l.at,
  bytes: originalValue(l)?.length ?? 0,
  ...(refused?.length ? { refused } : {}),
});

/** Selects, checks and (with `execute`) replays the dead letters of the window. */
export async function replayDeadLetters(kafka: Kafka, opts: ReplayOptions): Promise<ReplayReport> {
  const codes = new Set(opts.codes ?? []);
  const topics = new Set(opts.topics ?? []);
  const matches = (r: ReadLetter): boolean => {
    if (opts.until !== undefined && r.timestamp > opts.until) return false;
    // Not a dead letter this platform wrote: selected (and refused) only when nothing filters.
    if (!r.letter) return !codes.size && !topics.size;
    if (codes.size && !codes.has(r.letter.error.code)) return false;
    return !topics.size || topics.has(r.letter.source.topic);
  };
  const { letters, read, incomplete } = await readLetters(
    kafka,
    opts.since,
    opts.idleTimeoutMs ?? 15000,
    matches,
  );
  const report: ReplayReport = {
    execute: !!opts.execute,
    read,
    selected: 0,
    replayed: [],
    refused: [],
    incomplete,
  };
  const toSend: Array<{ read: ReadLetter; letter: DeadLetter }> = [];
  for (const r of letters) {
    if (opts.limit !== undefined && report.selected >= opts.limit) break;
    const l = r.letter;
    if (!l) {
      report.selected++;
      report.refused.push({
        letter: `${r.partition}:${r.offset}`,
        topic: '',
        partition: -1,
        offset: '',
        key: null,
        code: '',
        at: new Date(r.timestamp).toISOString(),
        bytes: 0,
        refused: ['invalid_letter'],
      });
      continue;
    }
    report.selected++;
    const refused = refusals(l, opts.force);
    if (refused.length) report.refused.push(summary(r, l, refused));
    else toSend.push({ read: r, letter: l });
  }
  if (opts.execute && toSend.length) await produce(kafka, toSend);
  report.replayed = toSend.map(({ read, letter }) => summary(read, letter));
  return report;
}

async function produce(
  kafka: Kafka,
  items: Array<{ read: ReadLetter; letter: DeadLetter }>,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const partitions = new Map<string, number>();
  try {
    const meta = await admin.fetchTopicMetadata({
      topics: [...new Set(items.map((i) => i.letter.source.topic))],
    });
    for (const t of meta.topics) partitions.set(t.name, t.partitions.length);
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    // One call per run of letters bound for the same topic keeps the dead-letter order.
    for (let i = 0; i < items.length;) {
      const topic = items[i].letter.source.topic;
      const messages = [];
      for (
        ;
        i < items.length && items[i].letter.source.topic === topic && messages.length < 500;
        i++
      ) {
        const { read, letter } = items[i];
        const headers: IHeaders = {
          ...letter.headers,
          [REPLAY_HEADER]: `${read.partition}:${read.offset}`,
        };
        const p = letter.source.partition;
        messages.push({
          key: letter.source.key,
          value: originalValue(letter),
          headers,
          ...(p >= 0 && p < (partitions.get(topic) ?? 0) ? { partition: p } : {}),
        });
      }
      await producer.send({ topic, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

export function formatReport(r: ReplayReport): string {
  const lines: string[] = [];
  const byGroup = new Map<string, number>();
  for (const l of r.replayed) {
    byGroup.set(`${l.topic} ${l.code}`, (byGroup.get(`${l.topic} ${l.code}`) ?? 0) + 1);
  }
  lines.push(
    `${r.execute ? 'replayed' : 'dry run: would replay'} ${r.replayed.length} of ${r.selected} selected dead letters (${r.read} read)`,
  );
  for (const [k, n] of [...byGroup].sort()) lines.push(`  ${n.toString().padStart(7)}  ${k}`);
  if (r.refused.length) {
    const why = new Map<string, number>();
    for (const l of r.refused) for (const x of l.refused ?? []) why.set(x, (why.get(x) ?? 0) + 1);
    lines.push(
      `refused ${r.refused.length}: ${[...why].map(([k, n]) => `${k} ${n}`).join(', ')} (--force takes truncated, redacted and key_maybe_cut)`,
    );
    for (const l of r.refused.slice(0, 20)) {
      lines.push(
        `  letter ${l.letter}  ${l.topic}[${l.partition}]@${l.offset}  ${l.code}  ${(l.refused ?? []).join(',')}`,
      );
    }
    if (r.refused.length > 20) lines.push(`  … ${r.refused.length - 20} more (--json lists all)`);
  }
  if (r.incomplete.length) {
    lines.push(`warning: not read to the end (no progress): ${r.incomplete.join(', ')}`);
  }
  if (!r.execute && r.replayed.length) lines.push('nothing was written: add --execute to replay');
  return lines.join('\n');
}

const USAGE = `usage: npm run replay:dead-letters -- [--code CODE,...] [--topic SOURCE_TOPIC,...]
  [--since 24h|ISO|ms] [--until ISO|ms|1h] [--limit N] [--force] [--execute] [--json]`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      code: { type: 'string' },
      topic: { type: 'string' },
      since: { type: 'string', default: '24h' },
      until: { type: 'string' },
      limit: { type: 'string' },
      force: { type: 'boolean', default: false },
      execute: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const list = (v?: string) =>
    v
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [];
  const env = loadEnv(KafkaClientEnvSchema, { KAFKA_BROKERS: '127.0.0.1:9092', ...process.env });
  const kafka = createKafkaClient(env, 'replay-dead-letters', { logLevel: logLevel.ERROR });
  const report = await replayDeadLetters(kafka, {
    codes: list(values.code),
    topics: list(values.topic),
    since: parseTime(values.since),
    until: values.until ? parseTime(values.until) : undefined,
    limit: values.limit !== undefined ? Number(values.limit) : undefined,
    force: values.force,
    execute: values.execute,
  });
  console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
  return report.refused.length ? 1 : 0;
}

if (require.main === module) {
  // kafkajs on Node 24: harmless negative-timeout warnings (see docs/decisions.md).
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (w.name !== 'TimeoutNegativeWarning') console.warn(w);
  });
  main().then(
    (code) => process.exit(code),
    (e: Error) => {
      console.error(`replay-dead-letters failed: ${e.message}\n${USAGE}`);
      process.exit(2);
    },
  );
}
