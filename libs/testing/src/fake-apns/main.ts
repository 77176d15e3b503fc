/**
 * The fake APNs as a process of its own, for the demo and the benchmark:
 *   npx tsx libs/testing/src/fake-apns/main.ts --port 8443 --dir .local/fake-apns [--control-port 8445]
 *     [--topics com.example.chat] [--delay-ms 0] [--no-record] [--arrivals]
 * Writes `ca.pem` (trust it: the apps file's `endpoint.caFile`) and `AuthKey_<keyId>.p8` (the app's
 * `keyFile`) under --dir, reusing them if present, and prints one JSON line
 * `{ port, controlPort, caFile, keyFile, keyId, teamId }`. The control port answers
 * `GET /stats` (requests, by status, sessions) and `POST /reset` over plain HTTP, and
 * `POST /fault` with `{ "rule": <FakeApnsRule>, "fraction": 0.5 }` answers every token by that
 * rule (e.g. `{ "kind": "error", "status": 429, "reason": "TooManyRequests",
 * "retryAfterSeconds": 2 }`, `{ "kind": "goaway" }`) until `POST /fault` with `{}`.
 * With `--arrivals` it keeps, per accepted push, the payload's `ext` and the arrival time, served
 * as `GET /arrivals?from=N` (the end-to-end benchmark: see libs/testing/src/arrival-log.ts).
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FakeApns, type FakeApnsFault } from './fake-apns.server';
import { ensureTlsMaterial } from '../tls-material';
import { generateApnsKey, type ApnsSigningKey } from './apns-credentials';
import { ArrivalLog } from '../arrival-log';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8443' },
    host: { type: 'string', default: '127.0.0.1' },
    dir: { type: 'string', default: '.local/fake-apns' },
    'control-port': { type: 'string', default: '0' },
    topics: { type: 'string', default: 'com.example.chat' },
    'key-id': { type: 'string', default: 'FAKEKEY001' },
    'team-id': { type: 'string', default: 'FAKETEAM01' },
    'delay-ms': { type: 'string', default: '0' },
    'no-record': { type: 'boolean', default: false },
    arrivals: { type: 'boolean', default: false },
  },
});

function signingKey(dir: string, keyId: string, teamId: string): ApnsSigningKey {
  const keyFile = join(dir, `AuthKey_${keyId}.p8`);
  if (!existsSync(keyFile)) return generateApnsKey(dir, keyId, teamId);
  const publicKeyPem = createPublicKey(createPrivateKey(readFileSync(keyFile)))
    .export({ type: 'spki', format: 'pem' })
    .toString();
  return { keyId, teamId, keyFile, publicKeyPem };
}

async function main(): Promise<void> {
  const dir = resolve(values.dir);
  const tls = ensureTlsMaterial(dir);
  const key = signingKey(dir, values['key-id'], values['team-id']);
  const delay = Number(values['delay-ms']);
  const arrivals = values.arrivals ? new ArrivalLog() : undefined;
  const fake = await new FakeApns({
    tls,
    keys: [key],
    topics: values.topics.split(','),
    port: Number(values.port),
    host: values.host,
    record: !values['no-record'],
    defaultRule: delay > 0 ? { kind: 'slow', delayMs: delay } : { kind: 'ok' },
    observe: arrivals && ((a) => a.status === 200 && arrivals.add(a.ext, a.at)),
  }).start();
  const control = http.createServer((req, res) => {
    if (arrivals?.serve(req, res)) return;
    if (req.method === 'POST' && req.url === '/fault') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        try {
          const f = (body ? JSON.parse(body) : {}) as Partial<FakeApnsFault>;
          fake.setFault(f.rule ? { rule: f.rule, fraction: f.fraction } : undefined);
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ fault: fake.currentFault() ?? null }));
        } catch (e) {
          res.statusCode = 400;
          res.end((e as Error).message);
        }
      });
      return;
    }
    if (req.method === 'POST' && req.url === '/reset') {
      fake.received.length = 0;
      fake.counts.requests = 0;
      fake.counts.byStatus.clear();
    }
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        requests: fake.counts.requests,
        sessions: fake.counts.sessions,
        byStatus: Object.fromEntries(fake.counts.byStatus),
        cpu: process.cpuUsage(),
        rss: process.memoryUsage().rss,
      }),
    );
  });
  await new Promise<void>((r) => control.listen(Number(values['control-port']), '127.0.0.1', r));
  const controlPort = (control.address() as AddressInfo).port;
  process.stdout.write(
    `${JSON.stringify({ port: fake.port, controlPort, caFile: tls.caFile, keyFile: key.keyFile, keyId: key.keyId, teamId: key.teamId })}\n`,
  );
  const stop = () => {
    control.close();
    void fake.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main();
