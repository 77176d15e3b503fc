import { REPO_ROOT } from '@app/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export interface Child {
  proc: ChildProcess;
  events: string[];
  exited: Promise<NodeJS.Signals | number | null>;
}

/** Starts the decide stage as a process of its own (see decide.child.ts). */
export function startChild(env: Record<string, string>): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', resolve(__dirname, 'decide.child.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const events: string[] = [];
  let buf = '';
  proc.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        events.push((JSON.parse(line) as { event: string }).event);
      } catch {
        // a log line, not an event
      }
    }
  });
  const exited = new Promise<NodeJS.Signals | number | null>((r) =>
    proc.once('exit', (code, signal) => r(signal ?? code)),
  );
  return { proc, events, exited };
}
