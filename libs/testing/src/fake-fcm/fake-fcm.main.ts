/**
 * Runs the fake FCM as its own process (demo, benchmark):
 *   npx tsx libs/testing/src/fake-fcm/fake-fcm.main.ts --port 8444 --dir .local/fake-fcm --project demo-project
 * Writes the CA and one service account per project into --dir and prints one JSON line with the
 * port, the CA file and the service account files, then serves until SIGTERM.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FakeFcm } from './fake-fcm.server';
import { ensureTlsMaterial } from '../tls-material';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      dir: { type: 'string', default: '.local/fake-fcm' },
      project: { type: 'string', multiple: true, default: ['demo-project'] },
      record: { type: 'boolean', default: false },
      'retry-after': { type: 'string', default: '60' },
    },
  });
  const dir = resolve(values.dir);
  mkdirSync(dir, { recursive: true });
  const fake = await FakeFcm.start({
    host: values.host,
    port: Number(values.port),
    tls: ensureTlsMaterial(dir),
    record: values.record,
    defaultRetryAfterSeconds: Number(values['retry-after']),
  });
  const serviceAccountFiles = Object.fromEntries(
    values.project.map((p) => [p, fake.writeServiceAccount(p, dir)]),
  );
  process.stdout.write(`${JSON.stringify({ ...fake.endpoint(), serviceAccountFiles })}\n`);
  const stop = () => void fake.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main().catch((e: Error) => {
  process.stderr.write(`fake FCM failed: ${e.message}\n`);
  process.exit(1);
});
