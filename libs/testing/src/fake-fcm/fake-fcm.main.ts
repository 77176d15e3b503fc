/**
 * Runs the fake FCM as its own process (demo, benchmark):
 *   npx tsx libs/testing/src/fake-fcm/fake-fcm.main.ts --port 8444 --dir .local/fake-fcm --project demo-project
 * Writes the CA and one service account per project into --dir and prints one JSON line with the
 * port, the CA file and the service account files, then serves until SIGTERM.
 * With `--arrivals` it keeps, per accepted send, `data.messageId` and the arrival time, served on a
 * plain-HTTP control port (`controlPort` in the JSON line) as `GET /arrivals?from=N` and `GET
 * /stats` (the end-to-end benchmark: see libs/testing/src/arrival-log.ts).
 */
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FakeFcm } from './fake-fcm.server';
import { ensureTlsMaterial } from '../tls-material';
import { ArrivalLog } from '../arrival-log';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      dir: { type: 'string', default: '.local/fake-fcm' },
      project: { type: 'string', multiple: true, default: ['demo-project'] },
      record: { type: 'boolean', default: false },
      'retry-after': { type: 'string', default: '60' },
      arrivals: { type: 'boolean', default: false },
      'control-port': { type: 'string', default: '0' },
    },
  });
  const arrivals = values.arrivals ? new ArrivalLog() : undefined;
  const dir = resolve(values.dir);
  mkdirSync(dir, { recursive: true });
  const fake = await FakeFcm.start({
    host: values.host,
    port: Number(values.port),
    tls: ensureTlsMaterial(dir),
    record: values.record,
    defaultRetryAfterSeconds: Number(values['retry-after']),
    observe:
      arrivals &&
      ((s) => {
        if (s.httpStatus !== 200) return;
        const id = (s.message.data as Record<string, unknown> | undefined)?.messageId;
        arrivals.add(typeof id === 'string' ? id : undefined, s.at);
      }),
  });
  let controlPort: number | undefined;
  if (arrivals) {
    const control = http.createServer((req, res) => {
      if (arrivals.serve(req, res)) return;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ...fake.stats(), rss: process.memoryUsage().rss }));
    });
    await new Promise<void>((r) => control.listen(Number(values['control-port']), '127.0.0.1', r));
    controlPort = (control.address() as AddressInfo).port;
  }
  const serviceAccountFiles = Object.fromEntries(
    values.project.map((p) => [p, fake.writeServiceAccount(p, dir)]),
  );
  process.stdout.write(
    `${JSON.stringify({ ...fake.endpoint(), serviceAccountFiles, controlPort })}\n`,
  );
  const stop = () => void fake.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main().catch((e: Error) => {
  process.stderr.write(`fake FCM failed: ${e.message}\n`);
  process.exit(1);
});
