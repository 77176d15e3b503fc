/**
 * Where a service's CPU went, from a V8 .cpuprofile (`throughput.ts --profile` writes them to
 * .local/apns-profiles): self time per package (node_modules/<pkg>, node internals, our code) and
 * the hottest functions.   npx tsx bench/apns-dispatcher/profile-summary.ts [file.cpuprofile]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../procs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

const dir = join(ROOT, '.local/apns-profiles');
const file =
  process.argv[2] ??
  join(
    dir,
    readdirSync(dir).sort(
      (a, b) => statSync(join(dir, b)).mtimeMs - statSync(join(dir, a)).mtimeMs,
    )[0],
  );
const profile = JSON.parse(readFileSync(file, 'utf8')) as {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
};
const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) =>
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)),
);

const area = (url: string, fn: string): string => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.startsWith('node:')) return url;
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  if (url.includes('/libs/')) return `libs/${/\/libs\/([^/]+)/.exec(url)?.[1]}`;
  if (url.includes('/apps/')) return 'apps/apns-dispatcher';
  return url;
};
const byArea = new Map<string, number>();
const byFn = new Map<string, number>();
let total = 0;
for (const [id, us] of self) {
  const n = byNode.get(id)!;
  total += us;
  const a = area(n.callFrame.url, n.callFrame.functionName);
  byArea.set(a, (byArea.get(a) ?? 0) + us);
  const f = `${n.callFrame.functionName || '(anonymous)'} ${a}:${n.callFrame.lineNumber + 1}`;
  byFn.set(f, (byFn.get(f) ?? 0) + us);
}
const top = (m: Map<string, number>, k: number) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([name, us]) => `${((us / total) * 100).toFixed(1).padStart(5)}%  ${name}`);
console.log(`${file}\nself time by area (${(total / 1e6).toFixed(1)} s sampled):`);
console.log(top(byArea, 15).join('\n'));
console.log('\nhottest functions:');
console.log(top(byFn, 20).join('\n'));
