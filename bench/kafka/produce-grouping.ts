/**
 * kafkajs's grouping of a produce call's messages by partition, before and after
 * patches/kafkajs+2.2.4.patch, in one run:   npx tsx bench/kafka/produce-grouping.ts
 * Baseline: the function as kafkajs 2.2.4 publishes it, rebuilt from the patch's context and
 * removed lines (so nothing of it is copied here); measured: the installed (patched) function.
 * Prints CPU µs per message and the ratio for call sizes the services make (one partition: decide's
 * requests, changelog and outcomes of one partition batch; twelve: a dispatcher's outcomes).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT } from '../procs';

type Group = (args: {
  topic: string;
  partitionMetadata: Array<{ partitionId: number }>;
  messages: Array<{ partition: number }>;
  partitioner: (a: { message: { partition: number } }) => number;
}) => Record<number, unknown[]>;

const require = createRequire(join(ROOT, 'package.json'));
const FILE = 'node_modules/kafkajs/src/producer/groupMessagesPerPartition.js';

/** The published file: the patch's lines as they were before it (context and `-` lines). */
function published(): Group {
  const patch = readFileSync(join(ROOT, 'patches/kafkajs+2.2.4.patch'), 'utf8').split('\n');
  const start = patch.findIndex((l) => l.startsWith(`--- a/${FILE}`));
  const lines: string[] = [];
  for (const l of patch.slice(start + 2)) {
    if (l.startsWith('diff --git')) break;
    if (l.startsWith('@@') || l.startsWith('+')) continue;
    if (l.startsWith('\\')) continue; // "\ No newline at end of file"
    lines.push(l.slice(1));
  }
  const dir = mkdtempSync(join(tmpdir(), 'kafkajs-published-'));
  const file = join(dir, 'groupMessagesPerPartition.js');
  writeFileSync(file, lines.join('\n'));
  try {
    return require(file) as Group;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const installed = require('kafkajs/src/producer/groupMessagesPerPartition') as Group;
if (!readFileSync(join(ROOT, FILE), 'utf8').includes('patches/kafkajs+2.2.4.patch')) {
  throw new Error(`${FILE} is not patched: run npm ci (postinstall applies patches/)`);
}
const before = published();
const partitionMetadata = Array.from({ length: 12 }, (_, i) => ({ partitionId: i }));
const partitioner = ({ message }: { message: { partition: number } }) => message.partition;

function cpuMicros(fn: Group, n: number, partitions: number): number {
  const messages = Array.from({ length: n }, (_, i) => ({ partition: i % partitions }));
  const args = { topic: 't', partitionMetadata, messages, partitioner };
  const rounds = Math.max(1, Math.floor(20_000 / n));
  fn(args); // warm-up
  const t0 = process.cpuUsage();
  for (let r = 0; r < rounds; r++) {
    const out = fn(args);
    if (Object.values(out).reduce((a, m) => a + m.length, 0) !== n) throw new Error('lost');
  }
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / rounds / n;
}

console.log(`kafkajs groupMessagesPerPartition, CPU µs per message, ${new Date().toISOString()}`);
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
  const a = cpuMicros(before, n, partitions);
  const b = cpuMicros(installed, n, partitions);
  console.log(
    String(n).padStart(9),
    String(partitions).padStart(11),
    a.toFixed(2).padStart(10),
    b.toFixed(2).padStart(9),
    `${(a / b).toFixed(0)}x`.padStart(20),
  );
}
