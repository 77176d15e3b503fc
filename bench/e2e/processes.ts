/**
 * The processes of the end-to-end benchmark: the six services from the built output
 * (`node dist/apps/<name>/main.js`, as the image runs them), each with a log file and a pid file.
 * Every child is registered here: `stopAll` ends them (SIGTERM, then SIGKILL), and a process exit
 * of any kind (error, Ctrl-C) kills what is left, so a second run starts clean; a run killed with
 * `kill -9` leaves pid files that the next run uses to reap its leftovers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  createWriteStream,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { procStats, ROOT } from '../procs';

export const SERVICES = [
  'token-registry',
  'presence',
  'routing',
  'apns-dispatcher',
  'fcm-dispatcher',
  'delivery-reports',
] as const;
export type ServiceName = (typeof SERVICES)[number];

export const WORK_DIR = join(ROOT, '.local/bench-e2e');
const PIDS = join(WORK_DIR, 'pids');
const children = new Set<ChildProcess>();

function killLeftChildren(): void {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}
process.on('exit', killLeftChildren);

/** A child this benchmark started: tracked for the exit handler, its pid file written. */
export function track(name: string, child: ChildProcess, marker: string): ChildProcess {
  children.add(child);
  mkdirSync(PIDS, { recursive: true });
  const file = join(PIDS, `${name}.pid`);
  if (child.pid) writeFileSync(file, `${child.pid}\n${marker}\n`);
  child.once('exit', () => {
    children.delete(child);
    rmSync(file, { force: true });
  });
  return child;
}

/** Processes an earlier run left (pid file, and the command line still matches): killed. */
export function reapLeftovers(log: (s: string) => void): void {
  let files: string[] = [];
  try {
    files = readdirSync(PIDS);
  } catch {
    return;
  }
  for (const f of files) {
    const [pid, marker] = readFileSync(join(PIDS, f), 'utf8').split('\n');
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (marker && cmd.includes(marker)) {
        process.kill(Number(pid), 'SIGKILL');
        log(`killed ${f.replace(/\.pid$/, '')} (pid ${pid}) left by an earlier run`);
      }
    } catch {
      // gone already
    }
    rmSync(join(PIDS, f), { force: true });
  }
}

/** Ends a child: SIGTERM, SIGKILL after `ms` (`ms` = 0: SIGKILL at once). */
export async function stopChild(child: ChildProcess | undefined, ms = 15000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill(ms === 0 ? 'SIGKILL' : 'SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), ms);
  await gone;
  clearTimeout(t);
}

/**
 * Ends every child. `kill`: SIGKILL at once, for the end of a run when nothing is measured any
 * more (a graceful stop of six services costs seconds; CPU profiles need the graceful one).
 */
export async function stopAll(opts: { kill?: boolean } = {}): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c, opts.kill ? 0 : 15000)));
}

/** The hook each service is started with (bench only): a forced collection on SIGUSR2. */
export const GC_HOOK = join(ROOT, 'bench/e2e/gc-hook.js');

/** One service from dist/, with its settings, port, log and readiness. */
export class Service {
  child?: ChildProcess;
  startedAt = 0;

  constructor(
    readonly name: ServiceName,
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly nodeArgs: string[] = [],
  ) {}

  /** Where the GC hook writes its reading (bench/e2e/gc-hook.js). */
  get gcReportFile(): string {
    return join(WORK_DIR, 'run', `gc-${this.name}.json`);
  }

  get entry(): string {
    return `dist/apps/${this.name}/main.js`;
  }

  get pid(): number {
    if (!this.child?.pid) throw new Error(`${this.name} is not running`);
    return this.child.pid;
  }

  start(): void {
    mkdirSync(join(WORK_DIR, 'logs'), { recursive: true });
    const out = createWriteStream(join(WORK_DIR, 'logs', `${this.name}.log`), { flags: 'a' });
    out.write(`\n===== start at ${new Date().toISOString()} =====\n`);
    const args = ['--expose-gc', '--require', GC_HOOK, ...this.nodeArgs, this.entry];
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HTTP_PORT: String(this.port),
        HTTP_HOST: '127.0.0.1',
        BENCH_GC_REPORT_FILE: this.gcReportFile,
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(out, { end: false });
    child.stderr?.pipe(out, { end: false });
    child.once('exit', () => out.end());
    this.startedAt = performance.now();
    this.child = track(this.name, child, this.entry);
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
  }

  async ready(path = '/health/ready'): Promise<boolean> {
    try {
      const r = await fetch(`http://127.0.0.1:${this.port}${path}`, {
        signal: AbortSignal.timeout(3000),
      });
      await r.arrayBuffer();
      return r.status === 200;
    } catch {
      return false;
    }
  }

  /**
   * Waits until ready (`/health/live`: until its HTTP server answers, i.e. it has booted; it may
   * still be connecting); ms since the process was started.
   */
  async waitReady(timeoutMs = 180000, path = '/health/ready'): Promise<number> {
    for (;;) {
      if (await this.ready(path)) return performance.now() - this.startedAt;
      if (this.child?.exitCode !== null) {
        throw new Error(
          `${this.name} exited (${this.child?.exitCode}); see ${join(WORK_DIR, 'logs', `${this.name}.log`)}`,
        );
      }
      if (performance.now() - this.startedAt > timeoutMs) {
        throw new Error(`${this.name} not ready within ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Values of the Prometheus metrics whose line starts with `prefix` (labels included). */
  async metrics(prefix: string): Promise<Map<string, number>> {
    const r = await fetch(`http://127.0.0.1:${this.port}/metrics`, {
      signal: AbortSignal.timeout(5000),
    });
    const out = new Map<string, number>();
    for (const line of (await r.text()).split('\n')) {
      if (!line.startsWith(prefix)) continue;
      const cut = line.lastIndexOf(' ');
      out.set(line.slice(0, cut), Number(line.slice(cut + 1)));
    }
    return out;
  }

  async metric(name: string): Promise<number> {
    let sum = 0;
    for (const [k, v] of await this.metrics(name)) {
      if (k === name || k.startsWith(`${name}{`)) sum += v;
    }
    return sum;
  }

  cpuMs(): number {
    return procStats(this.pid).cpuMs;
  }
}

/**
 * Heap in use (V8, from the service's /metrics), the lowest of samples over `ms` (after a major GC
 * the garbage is gone: the low point is the live data), and the RSS.
 */
export async function settledHeap(s: Service, ms = 3000): Promise<{ heap: number; rss: number }> {
  let heap = Infinity;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    heap = Math.min(heap, await s.metric('nodejs_heap_size_used_bytes'));
    await new Promise((r) => setTimeout(r, 200));
  }
  return { heap, rss: procStats(s.pid).rssMb * 2 ** 20 };
}

/** What the GC hook wrote: `process.memoryUsage()` before and after two full collections. */
export interface GcReading {
  gcMs: number;
  before: NodeJS.MemoryUsage;
  after: NodeJS.MemoryUsage;
}

/**
 * Heap in use after a forced full collection (two `global.gc()` in the service, through the GC
 * hook: SIGUSR2, then its report file), and the RSS then.
 */
export async function forcedGcHeap(
  s: Service,
  timeoutMs = 15000,
): Promise<{ heap: number; rss: number; heapBeforeGc: number; gcMs: number }> {
  const file = s.gcReportFile;
  rmSync(file, { force: true });
  process.kill(s.pid, 'SIGUSR2');
  const end = performance.now() + timeoutMs;
  for (;;) {
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // not written yet
    }
    if (text) {
      const r = JSON.parse(text) as GcReading;
      return {
        heap: r.after.heapUsed,
        rss: r.after.rss,
        heapBeforeGc: r.before.heapUsed,
        gcMs: r.gcMs,
      };
    }
    if (performance.now() > end) {
      throw new Error(`${s.name}: no GC reading in ${file} after ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Newest modification time (ms) of the sources under `dir` (recursively), leaving out what no
 * service bundles: specs and libs/testing.
 */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (p !== join(ROOT, 'libs/testing')) t = Math.max(t, newest(p));
    } else if (!e.name.endsWith('.spec.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/**
 * Written when this harness's own build succeeded. webpack leaves a bundle whose content did not
 * change unwritten (old mtime), so after a change to one service the others' bundles stay older
 * than the newest source and, without the stamp, every run would build again.
 */
const BUILD_STAMP = join(ROOT, 'dist/.bench-e2e-built');

export function markBuilt(): void {
  writeFileSync(BUILD_STAMP, `${new Date().toISOString()}\n`);
}

/** Whether dist/ is missing a service or is older than the sources (apps/, libs/). */
export function distIsStale(): boolean {
  const src = Math.max(newest(join(ROOT, 'apps')), newest(join(ROOT, 'libs')));
  let stamp = 0;
  try {
    stamp = statSync(BUILD_STAMP).mtimeMs;
  } catch {
    // never built by this harness
  }
  return SERVICES.some((s) => {
    try {
      return Math.max(statSync(join(ROOT, 'dist/apps', s, 'main.js')).mtimeMs, stamp) < src;
    } catch {
      return true;
    }
  });
}
