/**
 * kafkajs 2.2.4 as published against kafkajs as patched by patches/kafkajs+2.2.4.patch, in one
 * run:   npx tsx bench/kafka/kafkajs-patch.ts
 * Baselines: the published files, made from the installed ones by taking the patch back (so nothing
 * of them is copied here); measured: the installed files.
 * Grouping a produce call's messages by partition: CPU µs per message by call size (one
 * partition: decide's records of one partition batch; twelve: a dispatcher's outcomes).
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

for (const f of ['producer/groupMessagesPerPartition.js']) {
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
