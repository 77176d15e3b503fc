/**
 * The fake APNs and FCM as processes of their own (the existing benchmarks' launchers) with
 * `--arrivals`: each keeps the message id and the arrival time of every accepted push (APNs: the
 * payload's `ext`, which the benchmark's messages set to their id; FCM: `data.messageId`). The
 * harness counts them while a phase runs and reads them all after it.
 */
import { writeAppsFile } from '@app/testing';
import { join } from 'node:path';
import { startFakeProcess, type FakeProcess } from '../apns-dispatcher/bench-procs';
import { startFake, type FakeInfo } from '../fcm-dispatcher/fcm-procs';
import { track } from './processes';
import { API_KEY, APNS_TOPIC, APP, FCM_PROJECT } from './population';

export interface Fakes {
  apns: FakeProcess;
  fcm: { info: FakeInfo; pid: number };
  appsFile: string;
}

export async function startFakes(dir: string): Promise<Fakes> {
  // Started side by side; each tracked as soon as it runs, so a failure of the other stops it too.
  const [apns, fcm] = await Promise.all([
    startFakeProcess(join(dir, 'fake-apns'), APNS_TOPIC, ['--arrivals']).then((f) => {
      track('fake-apns', f.child, 'fake-apns/main.ts');
      return f;
    }),
    startFake(join(dir, 'fake-fcm'), FCM_PROJECT, ['--arrivals']).then((f) => {
      track('fake-fcm', f.child, 'fake-fcm.main.ts');
      return f;
    }),
  ]);
  const appsFile = writeAppsFile(
    [
      {
        id: APP,
        apiKey: API_KEY,
        policy: { suppressWhenOnlineElsewhere: false, offlineAfterDays: 7 },
        apns: {
          teamId: apns.teamId,
          keyId: apns.keyId,
          keyFile: apns.keyFile,
          topics: [APNS_TOPIC],
          environments: ['production'],
          endpoint: { host: '127.0.0.1', port: apns.port, caFile: apns.caFile },
        },
        fcm: {
          projectId: FCM_PROJECT,
          serviceAccountFile: fcm.info.serviceAccountFiles[FCM_PROJECT],
          endpoint: { host: fcm.info.host, port: fcm.info.port, caFile: fcm.info.caFile },
        },
      },
    ],
    { file: join(dir, 'apps.yaml') },
  );
  return { apns, fcm: { info: fcm.info, pid: fcm.pid }, appsFile };
}

/** Every arrival read so far, from both fakes. */
export class Arrivals {
  readonly keys: string[] = [];
  readonly ats: number[] = [];
  private readonly next = { apns: 0, fcm: 0 };

  constructor(private readonly ports: { apns: number; fcm: number }) {}

  private async get<T>(port: number, path: string, method = 'GET'): Promise<T> {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, { method });
    return (await r.json()) as T;
  }

  /** Arrivals the fakes hold now (not yet read included). */
  async count(): Promise<number> {
    const [a, f] = await Promise.all(
      [this.ports.apns, this.ports.fcm].map((p) =>
        this.get<{ count: number }>(p, '/arrivals/count'),
      ),
    );
    return a.count + f.count;
  }

  /** Reads what arrived since the last read. */
  async read(): Promise<void> {
    for (const which of ['apns', 'fcm'] as const) {
      for (;;) {
        const s = await this.get<{ next: number; keys: string[]; ats: number[] }>(
          this.ports[which],
          `/arrivals?from=${this.next[which]}`,
        );
        if (s.next === this.next[which]) break;
        this.next[which] = s.next;
        for (let i = 0; i < s.keys.length; i++) {
          this.keys.push(s.keys[i]);
          this.ats.push(s.ats[i]);
        }
      }
    }
  }

  /** Forgets everything (both fakes and here): the baselines' pushes are not the platform's. */
  async clear(): Promise<void> {
    await Promise.all(
      [this.ports.apns, this.ports.fcm].map((p) => this.get(p, '/arrivals/clear', 'POST')),
    );
    this.keys.length = 0;
    this.ats.length = 0;
    this.next.apns = 0;
    this.next.fcm = 0;
  }

  /** Waits until the fakes hold `target` arrivals; false after `idleMs` without a new one. */
  async waitFor(target: number, idleMs = 20000, intervalMs = 50): Promise<boolean> {
    let last = -1;
    let since = performance.now();
    for (;;) {
      const n = await this.count();
      if (n >= target) return true;
      if (n !== last) {
        last = n;
        since = performance.now();
      } else if (performance.now() - since > idleMs) return false;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}
