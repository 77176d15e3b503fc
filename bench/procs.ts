import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Helpers the benchmarks share: the repository root, a process's CPU and memory, a service. */
export const ROOT = resolve(__dirname, '..');
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

/**
 * A service entry point as one node process (SWC on load, tsconfig path aliases); `root`: another
 * checkout to run it from (a benchmark comparing two versions of the code in one run).
 */
export function runService(
  entry: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
  root = ROOT,
): ChildProcess {
  return spawn(process.execPath, [...nodeArgs, '-r', './libs/testing/src/swc-register.js', entry], {
    cwd: root,
    env: { PATH: process.env.PATH, TS_NODE_PROJECT: 'tsconfig.json', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
