import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ROOT } from '../procs';

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

/**
 * The fake APNs in its own process (so it does not share an event loop with a contender);
 * `extraArgs` e.g. `['--arrivals']` (bench/e2e).
 */
export async function startFakeProcess(
  dir: string,
  topic: string,
  extraArgs: string[] = [],
): Promise<FakeProcess> {
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
      ...extraArgs,
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
