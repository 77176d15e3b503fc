import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');
const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU time (ms, user + system) and memory of a process, from /proc. */
export function procStats(pid: number): { cpuMs: number; rssMb: number; peakRssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuMs = (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { cpuMs, rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
}

export interface FakeProcess {
  child: ChildProcess;
  port: number;
  controlPort: number;
  caFile: string;
  keyFile: string;
  keyId: string;
  teamId: string;
  stats(): Promise<{ requests: number; byStatus: Record<string, number> }>;
}

/** The fake APNs in its own process (so it does not share an event loop with a contender). */
export async function startFakeProcess(dir: string, topic: string): Promise<FakeProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'libs/testing/src/fake-apns/main.ts',
      '--port',
      '0',
      '--dir',
      dir,
      '--topics',
      topic,
      '--no-record',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((res, rej) => {
    const rl = createInterface({ input: child.stdout });
    rl.once('line', res);
    child.once('exit', (c) => rej(new Error(`fake APNs exited (${c})`)));
  });
  const info = JSON.parse(line) as Omit<FakeProcess, 'child' | 'stats'>;
  return {
    ...info,
    child,
    stats: async () =>
      (await (await fetch(`http://127.0.0.1:${info.controlPort}/stats`)).json()) as {
        requests: number;
        byStatus: Record<string, number>;
      },
  };
}

/** A service entry point as one node process (SWC on load, tsconfig path aliases). */
export function runService(
  entry: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
): ChildProcess {
  return spawn(process.execPath, [...nodeArgs, '-r', './libs/testing/src/swc-register.js', entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, TS_NODE_PROJECT: 'tsconfig.json', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
