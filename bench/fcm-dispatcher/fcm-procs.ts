/**
 * What the FCM benchmarks share (bench/fcm-dispatcher/throughput.ts, bench/e2e): the fake FCM as
 * a process of its own, the benchmark's message, and the bare firebase-admin `sendEach` baseline.
 */
import { uniqueId } from '@app/testing';
import { initializeApp, deleteApp } from 'firebase-admin/app';
import { getMessaging, type Message } from 'firebase-admin/messaging';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { RedirectAgent } from '@apps/fcm-dispatcher/firebase/redirect.agent';
import { ServiceAccountCredential } from '@apps/fcm-dispatcher/firebase/service-account.credential';
import { procStats, ROOT } from '../procs';

export const MAX_SOCKETS = 64;
const BATCH = 500;

export interface FakeInfo {
  host: string;
  port: number;
  caFile: string;
  serviceAccountFiles: Record<string, string>;
  /** With `--arrivals`: the plain-HTTP control port (`/arrivals`, `/stats`). */
  controlPort?: number;
}

/** The fake FCM in its own process; `extraArgs` e.g. `['--arrivals']`. */
export async function startFake(
  dir: string,
  project: string,
  extraArgs: string[] = [],
): Promise<{ info: FakeInfo; pid: number; child: ChildProcess; stop: () => void }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'libs/testing/src/fake-fcm/fake-fcm.main.ts',
      '--dir',
      dir,
      '--project',
      project,
      ...extraArgs,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((res, rej) => {
    createInterface({ input: child.stdout }).once('line', res);
    child.once('exit', (code) => rej(new Error(`fake exited with ${code}`)));
  });
  return {
    info: JSON.parse(line) as FakeInfo,
    pid: child.pid!,
    child,
    stop: () => child.kill('SIGTERM'),
  };
}

export function message(i: number): Message {
  return {
    token: `ok-bench-${String(i).padStart(8, '0')}`,
    notification: { title: 'Weekend hikers', body: 'Alice: Look at this' },
    data: { ext: '{"entity":{"id":1}}', conversation: 'group:g-7' },
    android: { priority: 'high', ttl: 600_000 },
  };
}

/** Sampled peak RSS and heap while `fn` runs. */
export async function measured<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; seconds: number; rssMb: number; heapMb: number }> {
  let rss = 0;
  let heap = 0;
  const sample = () => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
  };
  const timer = setInterval(sample, 50);
  const t0 = process.hrtime.bigint();
  const value = await fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  clearInterval(timer);
  sample();
  return { value, seconds, rssMb: rss / 2 ** 20, heapMb: heap / 2 ** 20 };
}

/**
 * Bare firebase-admin: `sendEach` of `n` messages in batches of 500, `inFlight` batches at a time,
 * with the dispatcher's agent settings; this process's CPU and the fake's per message.
 */
export async function sendEachBaseline(
  fake: FakeInfo,
  fakePid: number,
  project: string,
  n: number,
  inFlight: number,
  make: (i: number) => Message = message,
) {
  const sa = JSON.parse(readFileSync(fake.serviceAccountFiles[project], 'utf8')) as {
    client_email: string;
    private_key: string;
  };
  const agent = new RedirectAgent(
    { host: fake.host, port: fake.port, ca: readFileSync(fake.caFile, 'utf8') },
    { maxSockets: MAX_SOCKETS },
  );
  const app = initializeApp(
    { credential: new ServiceAccountCredential(sa, agent), projectId: project, httpAgent: agent },
    uniqueId('bare'),
  );
  const messaging = getMessaging(app);
  messaging.enableLegacyHttpTransport();
  await messaging.sendEach([make(-1)]); // token and connections warm, as for the dispatcher
  const cpu0 = process.cpuUsage();
  const fake0 = procStats(fakePid).cpuMs;
  const r = await measured(async () => {
    let next = 0;
    let ok = 0;
    const worker = async () => {
      while (next < n) {
        const start = next;
        next = Math.min(n, next + BATCH);
        const batch = Array.from({ length: next - start }, (_, k) => make(start + k));
        const res = await messaging.sendEach(batch);
        ok += res.successCount;
        const err = res.responses.find((x) => !x.success)?.error;
        if (err) {
          console.error(`baseline: ${res.failureCount} failed, e.g. ${err.code}: ${err.message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    return ok;
  });
  const cpu = process.cpuUsage(cpu0);
  const fakeCpuMs = procStats(fakePid).cpuMs - fake0;
  await deleteApp(app);
  agent.destroy();
  if (r.value !== n) throw new Error(`baseline delivered ${r.value} of ${n}`);
  return { ...r, cpuPerMsg: (cpu.user + cpu.system) / 1000 / n, fakeCpuPerMsg: fakeCpuMs / n };
}
