/**
 * Where a service's CPU went, from a V8 .cpuprofile (`throughput.ts --profile` writes them to
 * .local/apns-profiles, `npm run bench -- --profile` to .local/bench-e2e/profiles/<service>): self
 * time per package (node_modules/<pkg>, node internals, our code) and the hottest functions.
 *   npx tsx bench/apns-dispatcher/profile-summary.ts [file.cpuprofile]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../procs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

const area = (url: string, fn: string): string => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.startsWith('node:')) return url;
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  if (url.includes('/libs/')) return `libs/${/\/libs\/([^/]+)/.exec(url)?.[1]}`;
  const dist = /\/dist\/apps\/([^/]+)\//.exec(url);
  if (dist) return `ours (dist/apps/${dist[1]}: apps + libs, bundled)`;
  if (url.includes('/apps/')) return `apps/${/\/apps\/([^/]+)/.exec(url)?.[1]}`;
  return url;
};

/**
 * Lines: self time by area (`areas` of them), then the `fns` hottest functions, as shares of the
 * busy time (idle left out: a service waiting for Kafka is idle, not slow).
 */
export function summarizeProfile(file: string, areas = 15, fns = 20): string[] {
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
  const byArea = new Map<string, number>();
  const byFn = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const n = byNode.get(id)!;
    if (n.callFrame.functionName === '(idle)') {
      idle += us;
      continue;
    }
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
  return [
    `${file}`,
    `self time by area, share of ${(total / 1e6).toFixed(1)} s busy (${(idle / 1e6).toFixed(1)} s idle):`,
    ...top(byArea, areas),
    '',
    'hottest functions:',
    ...top(byFn, fns),
  ];
}

if (require.main === module) {
  const dir = join(ROOT, '.local/apns-profiles');
  const file =
    process.argv[2] ??
    join(
      dir,
      readdirSync(dir).sort(
        (a, b) => statSync(join(dir, b)).mtimeMs - statSync(join(dir, a)).mtimeMs,
      )[0],
    );
  console.log(summarizeProfile(file).join('\n'));
}
