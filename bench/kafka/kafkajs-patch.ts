/**
 * kafkajs 2.2.4 as published against kafkajs as patched by patches/kafkajs+2.2.4.patch, in one
 * run:   npx tsx bench/kafka/kafkajs-patch.ts
 * Baselines: the published files, made from the installed ones by taking the patch back (so nothing
 * of them is copied here); measured: the installed files.
 * 1. grouping a produce call's messages by partition: CPU µs per message by call size (one
 *    partition: decide's records of one partition batch; twelve: a dispatcher's outcomes);
 * 2. encoding a record with four headers the way kafkajs's record encoder does (one Encoder per
 *    header and one for the record): CPU µs per record.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ROOT } from '../procs';

const require = createRequire(join(ROOT, 'package.json'));
const KAFKAJS = 'node_modules/kafkajs/src';
const PATCH = join(ROOT, 'patches/kafkajs+2.2.4.patch');

/**
 * The file as published: the installed (patched) file with the patch's change to it taken back
 * (`git apply -R` in a scratch directory), loaded next to the installed file so that its relative
 * requires resolve, and removed at once.
 */
function published<T>(file: string): T {
  const path = `${KAFKAJS}/${file}`;
  const scratch = mkdtempSync(join(tmpdir(), 'kafkajs-published-'));
  const copy = join(ROOT, KAFKAJS, dirname(file), `.published-${process.pid}.js`);
  try {
    mkdirSync(join(scratch, dirname(path)), { recursive: true });
    copyFileSync(join(ROOT, path), join(scratch, path));
    execFileSync('git', ['apply', '-R', `--include=${path}`, PATCH], { cwd: scratch });
    copyFileSync(join(scratch, path), copy);
    return require(copy) as T;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    if (existsSync(copy)) rmSync(copy);
  }
}

function cpuMicros(n: number, rounds: number, fn: () => void): number {
  fn(); // warm-up
  const t0 = process.cpuUsage();
  for (let r = 0; r < rounds; r++) fn();
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / rounds / n;
}

for (const f of ['producer/groupMessagesPerPartition.js', 'protocol/encoder.js']) {
  if (!readFileSync(join(ROOT, KAFKAJS, f), 'utf8').includes('patches/kafkajs+2.2.4.patch')) {
    throw new Error(`${KAFKAJS}/${f} is not patched: run npm ci (postinstall applies patches/)`);
  }
}

type Group = (args: {
  topic: string;
  partitionMetadata: Array<{ partitionId: number }>;
  messages: Array<{ partition: number }>;
  partitioner: (a: { message: { partition: number } }) => number;
}) => Record<number, unknown[]>;
const groupBefore = published<Group>('producer/groupMessagesPerPartition.js');
const groupAfter = require('kafkajs/src/producer/groupMessagesPerPartition') as Group;
const partitionMetadata = Array.from({ length: 12 }, (_, i) => ({ partitionId: i }));
const partitioner = ({ message }: { message: { partition: number } }) => message.partition;
const grouping = (fn: Group, n: number, partitions: number) => {
  const messages = Array.from({ length: n }, (_, i) => ({ partition: i % partitions }));
  return cpuMicros(n, Math.max(1, Math.floor(20_000 / n)), () => {
    const out = fn({ topic: 't', partitionMetadata, messages, partitioner });
    if (Object.values(out).reduce((a, m) => a + m.length, 0) !== n) throw new Error('lost');
  });
};
console.log(`kafkajs 2.2.4 published vs patched, CPU per item, ${new Date().toISOString()}\n`);
console.log('grouping a produce call by partition (µs per message)');
console.log(
  'messages'.padStart(9),
  'partitions'.padStart(11),
  'published'.padStart(10),
  'patched'.padStart(9),
  'published / patched'.padStart(20),
);
for (const [n, partitions] of [
  [500, 1],
  [2_000, 1],
  [5_000, 1],
  [20_000, 1],
  [2_500, 12],
  [20_000, 12],
]) {
  const a = grouping(groupBefore, n, partitions);
  const b = grouping(groupAfter, n, partitions);
  console.log(
    String(n).padStart(9),
    String(partitions).padStart(11),
    a.toFixed(2).padStart(10),
    b.toFixed(2).padStart(9),
    `${(a / b).toFixed(0)}x`.padStart(20),
  );
}

// Encoding a record with four headers (an outcome record's shape), the way kafkajs's record
// encoder does: one Encoder per header and one for the record.
interface Enc {
  writeInt8(v: number): Enc;
  writeVarInt(v: number): Enc;
  writeVarLong(v: number): Enc;
  writeVarIntString(v: string): Enc;
  writeVarIntBytes(v: Buffer | string): Enc;
  writeVarIntArray(v: Enc[]): Enc;
  buffer: Buffer;
}
type EncoderClass = new () => Enc;
const EncBefore = published<EncoderClass>('protocol/encoder.js');
const EncAfter = require('kafkajs/src/protocol/encoder') as EncoderClass;
const key = Buffer.from('demo:bob');
const value = Buffer.from(
  JSON.stringify({
    jobId: '5276383c-98cf-7918-61f4-3b38e6dc7abb',
    messageId: 'm-1001',
    appId: 'demo',
    userId: 'bob',
    deviceId: 'iphone-1',
    provider: 'apns',
    status: 'delivered',
    code: null,
    reason: null,
    attempts: 1,
    latencyMs: 12,
    at: new Date().toISOString(),
  }),
);
const headers: Array<[string, string]> = [
  ['content-type', 'application/json'],
  ['event-type', 'push.outcome'],
  ['traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
  ['x-correlation-id', 'c-123456'],
];
const encodeRecord = (E: EncoderClass, i: number): Buffer =>
  new E()
    .writeVarInt(200) // the record's size (a fixed stand-in: the same work on both sides)
    .writeInt8(0)
    .writeVarLong(0)
    .writeVarInt(i)
    .writeVarIntBytes(key)
    .writeVarIntBytes(value)
    .writeVarIntArray(headers.map(([k, v]) => new E().writeVarIntString(k).writeVarIntBytes(v)))
    .buffer;
if (!encodeRecord(EncBefore, 7).equals(encodeRecord(EncAfter, 7))) {
  throw new Error('the patched encoder writes other bytes than the published one');
}
const N = 100_000;
const enc = (E: EncoderClass) =>
  cpuMicros(N, 1, () => {
    for (let i = 0; i < N; i++) encodeRecord(E, i);
  });
console.log('\nencoding a record with four headers (µs per record, three alternating rounds)');
for (let r = 0; r < 3; r++) {
  const [a, b] = [enc(EncBefore), enc(EncAfter)];
  console.log(
    `published ${a.toFixed(2)}  patched ${b.toFixed(2)}  published / patched ${(a / b).toFixed(1)}x`,
  );
}
