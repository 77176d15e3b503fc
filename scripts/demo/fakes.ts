/**
 * The local stand-ins for Apple and Google, for the demo: a fake APNs (HTTP/2, TLS, JWT checks)
 * and a fake FCM (OAuth token endpoint + messages:send), sharing one throw-away CA, plus the
 * apps file that points the `demo` tenant at them with a locally generated `.p8` and service
 * account. Serves `GET /received` on 127.0.0.1:8440 (what the fakes were sent) for the demo.
 *
 *   npx tsx scripts/demo/fakes.ts <run dir>
 */
import { FakeApns, FakeFcm, ensureTlsMaterial, generateApnsKey } from '@app/testing';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join, resolve } from 'node:path';

const APNS_PORT = 8443;
const FCM_PORT = 8444;
const CONTROL_PORT = 8440;
/** The demo's webhook receiver (scripts/demo/webhook-receiver.ts), started beside the fakes. */
const WEBHOOK_PORT = 8450;
const DEMO_KEY_DIGEST = 'sha256:ca6f2e39b2ff141859b18bb5283aadd5093c8ede2869f3656231a054e54bfc22'; // "demo-api-key"

async function main(): Promise<void> {
  const run = resolve(process.argv[2] ?? '.local/run');
  const apnsDir = join(run, 'fake-apns');
  const fcmDir = join(run, 'fake-fcm');
  mkdirSync(fcmDir, { recursive: true });

  const tls = ensureTlsMaterial(join(run, 'fake-tls'));
  const apnsKey = generateApnsKey(apnsDir, 'DEMOKEY001', 'DEMOTEAM01');
  const apns = await new FakeApns({
    tls,
    keys: [apnsKey],
    topics: ['com.example.chat'],
    port: APNS_PORT,
    host: '127.0.0.1',
    record: true,
  }).start();
  const fcm = await FakeFcm.start({
    host: '127.0.0.1',
    port: FCM_PORT,
    tls,
    record: true,
  });
  const serviceAccountFile = fcm.writeServiceAccount('demo-project', fcmDir);

  // The outcome webhook's signing secret, beside the apps file (the receiver reads it too).
  writeFileSync(join(run, 'demo-webhook.secret'), randomBytes(32).toString('hex'), { mode: 0o600 });
  const appsFile = join(run, 'apps.yaml');
  writeFileSync(
    appsFile,
    [
      '# Written by scripts/demo/fakes.ts: the demo tenant, pointed at the local fakes.',
      'apps:',
      '  - id: demo',
      `    apiKeys: ["${DEMO_KEY_DIGEST}"]`,
      '    policy: { suppressWhenOnlineElsewhere: false, offlineAfterDays: 7 }',
      '    apns:',
      `      teamId: ${apnsKey.teamId}`,
      `      keyId: ${apnsKey.keyId}`,
      `      keyFile: ${apnsKey.keyFile}`,
      '      topics: [com.example.chat]',
      `      endpoint: { host: 127.0.0.1, port: ${APNS_PORT}, caFile: ${tls.caFile} }`,
      '    fcm:',
      '      projectId: demo-project',
      `      serviceAccountFile: ${serviceAccountFile}`,
      `      endpoint: { host: 127.0.0.1, port: ${FCM_PORT}, caFile: ${tls.caFile} }`,
      '    webhooks:',
      `      - url: http://127.0.0.1:${WEBHOOK_PORT}/hooks/push`,
      '        secretFile: demo-webhook.secret',
      '        events: [sent, suppressed]',
      '        batchMax: 50',
      '        timeoutMs: 5000',
      '',
    ].join('\n'),
  );

  const control = http.createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ apns: apns.received, fcm: fcm.received }));
  });
  await new Promise<void>((r) => control.listen(CONTROL_PORT, '127.0.0.1', r));
  console.log(
    JSON.stringify({ msg: 'fakes ready', apnsPort: APNS_PORT, fcmPort: FCM_PORT, appsFile }),
  );

  const stop = () => {
    control.close();
    void Promise.all([apns.stop(), fcm.stop()]).then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main().catch((e: Error) => {
  console.error(`fakes failed: ${e.message}`);
  process.exit(1);
});
