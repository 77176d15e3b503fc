import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { waitFor } from '@app/testing';

/**
 * The built services as real processes (`npm run build` first): a missing setting stops the
 * service with a message naming it; SIGTERM shuts it down cleanly with exit code 0.
 */
const SERVICES = [
  { name: 'token-registry', port: 13001 },
  { name: 'presence', port: 13002 },
  { name: 'routing', port: 13003 },
  { name: 'apns-dispatcher', port: 13004 },
  { name: 'fcm-dispatcher', port: 13005 },
] as const;

const mainOf = (name: string) => resolve(__dirname, `../../dist/apps/${name}/main.js`);

function run(name: string, env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [mainOf(name)], {
    env: { PATH: process.env.PATH, ...env },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

describe('services as processes', () => {
  beforeAll(() => {
    const missing = SERVICES.filter((s) => !existsSync(mainOf(s.name)));
    if (missing.length) {
      throw new Error(
        `build first (npm run build): no ${missing.map((s) => mainOf(s.name)).join(', ')}`,
      );
    }
  });

  it.each(SERVICES)(
    '$name refuses to start without its settings, naming them',
    async ({ name }) => {
      const p = run(name, {});
      expect(await p.exited).toBe(1);
      expect(p.output()).toContain('KAFKA_BROKERS is required');
      expect(p.output()).toContain('PUSH_APPS_FILE is required');
      if (name === 'token-registry') expect(p.output()).toContain('DATABASE_URL is required');
    },
  );

  it.each(SERVICES)(
    '$name serves health and metrics, then exits 0 on SIGTERM',
    async ({ name, port }) => {
      const p = run(name, {
        KAFKA_BROKERS: process.env.KAFKA_BROKERS,
        DATABASE_URL: process.env.DATABASE_URL,
        PUSH_APPS_FILE: process.env.PUSH_APPS_FILE,
        HTTP_PORT: String(port),
        HTTP_HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
      });
      let child: ChildProcessWithoutNullStreams | undefined = p.child;
      try {
        const live = await waitFor(
          async () => {
            const r = await fetch(`http://127.0.0.1:${port}/health/live`).catch(() => undefined);
            return r?.status === 200 ? r : undefined;
          },
          { what: `${name} /health/live`, timeoutMs: 30000 },
        );
        expect(await live.json()).toEqual({ status: 'ok' });
        await waitFor(
          async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200,
          {
            what: `${name} ready`,
            timeoutMs: 60000,
          },
        );
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        expect(metrics).toContain(`service="${name}"`);
        // Every log line is JSON.
        const lines = p.output().trim().split('\n').filter(Boolean);
        expect(lines.length).toBeGreaterThan(0);
        for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();

        p.child.kill('SIGTERM');
        expect(await p.exited).toBe(0);
        child = undefined;
      } finally {
        child?.kill('SIGKILL');
      }
    },
  );
});
