/**
 * APNs throughput, one run, every contender against the same fake APNs (its own process):
 *   npx tsx bench/apns-dispatcher/throughput.ts [--n 20000] [--profile]
 * 1. bare node:http2 posting prebuilt requests (the loopback limit),
 * 2. bare @parse/node-apn Provider.send, a distinct notification per device,
 * 3. @parse/push-adapter (Parse Server's APNs adapter), one call for all devices,
 * 4. the dispatcher (one instance, its own process): push.apns.request.v1 -> fake -> outcomes
 *    committed, Kafka work included, on the APNs tests' own broker (127.0.0.1:19492).
 * Prints notifications/s, ratios, CPU ms per push and memory.
 */
import { TOPICS, type ApnsRequest } from '@app/contracts';
import { EventProducer, ensureTopics, outbound, setGroupOffsetsAtEnd } from '@app/kafka';
import {
  apnsRequest,
  apnsToken,
  startDisposableBroker,
  uniqueId,
  waitFor,
  writeAppsFile,
  type DisposableBroker,
} from '@app/testing';
import { Kafka, logLevel } from 'kafkajs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bareHttp2, bareNodeApn, parseAdapter, type Work } from './baselines';
import { procStats, ROOT, runService } from '../procs';
import { startFakeProcess, type FakeProcess } from './bench-procs';

const { values } = parseArgs({
  // --only dispatcher: skip the baselines (tuning runs); --max-bytes: fetch size per partition
  options: {
    n: { type: 'string', default: '20000' },
    profile: { type: 'boolean', default: false },
    only: { type: 'string', default: '' },
    'max-bytes': { type: 'string', default: '1048576' },
    consumers: { type: 'string', default: '1' },
    // e.g. --node-options=--max-semi-space-size=64 (the dispatcher process's V8 flags)
    'node-options': { type: 'string', default: '' },
    // dispatcher settings to try, e.g. --env APNS_MAX_IN_FLIGHT_PER_CONNECTION=500
    env: { type: 'string', multiple: true, default: [] },
  },
});
const N = Number(values.n);
const TOPIC = 'com.example.chat';
const CONNECTIONS = 4;
const WINDOW = 200;
/** Below the fake's (and Apple's) 1000 concurrent streams per connection. */
const CHUNK = 1000;

interface Result {
  name: string;
  ok: number;
  ms: number;
  cpuMs: number;
  fakeCpuMs: number;
  /** The broker's CPU over the run (the dispatcher's row only: the others do no Kafka work). */
  brokerCpuMs?: number;
  memMb: number;
}

async function fakeCpu(f: FakeProcess) {
  return procStats(f.child.pid!).cpuMs;
}

async function inProcess(
  name: string,
  f: FakeProcess,
  run: () => Promise<number>,
): Promise<Result> {
  global.gc?.();
  const cpu0 = process.cpuUsage();
  const fc0 = await fakeCpu(f);
  const t0 = performance.now();
  const ok = await run();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return {
    name,
    ok,
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    fakeCpuMs: (await fakeCpu(f)) - fc0,
    memMb: process.memoryUsage().rss / 2 ** 20,
  };
}

function requests(w: Work): ApnsRequest[] {
  const now = Date.now();
  return w.tokens.map((token, i) =>
    apnsRequest('bench', token, {
      jobId: `bench-${now}-${i}`,
      userId: `u${i}`,
      deviceId: `d${i}`,
      messageId: `m${now}`,
      expiresAt: new Date(now + 3_600_000).toISOString(),
      topic: TOPIC,
      payload: JSON.parse(w.payloads[i]) as Record<string, unknown>,
    }),
  );
}

async function dispatcher(
  f: FakeProcess,
  w: Work,
  dir: string,
  broker: DisposableBroker,
): Promise<Result> {
  const brokers = broker.brokers;
  const brokerPid = broker.pid?.();
  const brokerCpu = () => (brokerPid ? procStats(brokerPid).cpuMs : NaN);
  const kafka = new Kafka({ clientId: 'apns-bench', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, { partitions: 12, replicationFactor: 1 });
  const groupId = uniqueId('apns-bench');
  // A fresh group that starts where the topics end now: only this run's records count.
  // Just-created topics may not have leaders yet: retry until the ends can be read.
  await waitFor(
    async () => {
      await setGroupOffsetsAtEnd(kafka, admin, groupId, [
        TOPICS.apnsRequest.name,
        TOPICS.apnsRetry.name,
      ]);
      return true;
    },
    { what: 'group offsets at the topic ends', timeoutMs: 60000, intervalMs: 500 },
  );
  const outcomesEnd = async () =>
    (await admin.fetchTopicOffsets(TOPICS.pushOutcome.name)).reduce(
      (a, p) => a + Number(p.high),
      0,
    );
  const before = await outcomesEnd();
  const producer = new EventProducer(kafka);
  const reqs = requests(w);
  for (let i = 0; i < reqs.length; i += 2000) {
    await producer.send(reqs.slice(i, i + 2000).map((r) => outbound(TOPICS.apnsRequest, r)));
  }
  await producer.disconnect();

  const appsFile = writeAppsFile(
    [
      {
        id: 'bench',
        apiKey: 'bench',
        apns: {
          teamId: f.teamId,
          keyId: f.keyId,
          keyFile: f.keyFile,
          topics: [TOPIC],
          environments: ['production'],
          endpoint: { host: '127.0.0.1', port: f.port, caFile: f.caFile },
        },
      },
    ],
    { file: join(dir, 'apps.yaml') },
  );
  const base = (await f.stats()).requests;
  const child = runService(
    'apps/apns-dispatcher/src/main.ts',
    {
      KAFKA_BROKERS: brokers.join(','),
      PUSH_APPS_FILE: appsFile,
      HTTP_PORT: String(30000 + Math.floor(Math.random() * 10000)),
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      APNS_GROUP_ID: groupId,
      APNS_CONNECTIONS_PER_POOL: String(CONNECTIONS),
      APNS_MAX_IN_FLIGHT_PER_CONNECTION: String(WINDOW),
      APNS_MAX_BYTES_PER_PARTITION: values['max-bytes'],
      APNS_CONSUMERS: values.consumers,
      ...(values['node-options'] ? { NODE_OPTIONS: values['node-options'] } : {}),
      ...Object.fromEntries(values.env.map((kv) => kv.split('=', 2) as [string, string])),
    },
    values.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, '.local/apns-profiles')}`] : [],
  );
  try {
    await waitFor(async () => (await f.stats()).requests > base, {
      what: 'first send',
      timeoutMs: 60000,
      intervalMs: 5,
    });
    const t0 = performance.now();
    const cpu0 = procStats(child.pid!).cpuMs;
    const fc0 = await fakeCpu(f);
    const bc0 = brokerCpu();
    // Done when the group has committed every request: offsets commit only after the outcomes
    // of their jobs are written (counted in pushes whether outcome records are one per push or not).
    const requestsEnd = await admin.fetchTopicOffsets(TOPICS.apnsRequest.name);
    const committedAll = async () => {
      const [c] = await admin.fetchOffsets({ groupId, topics: [TOPICS.apnsRequest.name] });
      const at = new Map(c.partitions.map((p) => [p.partition, Number(p.offset)]));
      return requestsEnd.every((p) => (at.get(p.partition) ?? -1) >= Number(p.high));
    };
    await waitFor(async () => (await outcomesEnd()) > before && (await committedAll()), {
      what: 'all requests committed',
      timeoutMs: 120000,
      intervalMs: 20,
    });
    const ms = performance.now() - t0;
    const s = procStats(child.pid!);
    console.log(`dispatcher: ${(await outcomesEnd()) - before} outcome records for ${N} requests`);
    const ok = (await f.stats()).byStatus['200'] ?? 0;
    return {
      name: 'dispatcher (Kafka in, outcomes out)',
      ok: Math.min(ok, N),
      ms,
      cpuMs: s.cpuMs - cpu0,
      fakeCpuMs: (await fakeCpu(f)) - fc0,
      brokerCpuMs: brokerCpu() - bc0,
      memMb: s.peakRssMb,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await admin.disconnect();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'apns-bench-'));
  const broker = await startDisposableBroker(19492);
  const fake = await startFakeProcess(join(dir, 'fake'), TOPIC);
  const work: Work = {
    topic: TOPIC,
    tokens: Array.from({ length: N }, () => apnsToken()),
    payloads: Array.from({ length: N }, (_, i) =>
      JSON.stringify({
        aps: {
          alert: { title: 'Weekend hikers', body: `Alice: message ${i}` },
          badge: (i % 99) + 1,
          sound: 'default',
        },
        ext: '{"conv":"g-7"}',
      }),
    ),
  };
  const results: Result[] = [];
  try {
    await bareHttp2(fake, { ...work, tokens: work.tokens.slice(0, 2000) }, CONNECTIONS, WINDOW); // warm-up
    results.push(
      await inProcess(`bare node:http2 (${CONNECTIONS} sessions x ${WINDOW})`, fake, () =>
        bareHttp2(fake, work, CONNECTIONS, WINDOW),
      ),
    );
    const all = values.only !== 'dispatcher';
    if (all) {
      results.push(
        await inProcess(`bare node-apn Provider.send (${CHUNK} at once)`, fake, () =>
          bareNodeApn(fake, work, CHUNK),
        ),
      );
    }
    if (all) {
      results.push(
        await inProcess(`@parse/push-adapter APNS.send (${CHUNK} at once)`, fake, () =>
          parseAdapter(fake, work, CHUNK),
        ),
      );
    }
    results.push(await dispatcher(fake, work, dir, broker));
    if (all) {
      results.push(
        await inProcess(`bare node-apn Provider.send (all ${N} at once)`, fake, () =>
          bareNodeApn(fake, work, N),
        ),
      );
    }
  } finally {
    fake.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  const rate = (r: Result) => (r.ok / r.ms) * 1000;
  const loop = results[0];
  const parse = results.find((r) => r.name.startsWith('@parse')) ?? loop;
  console.log(
    `\nAPNs throughput, ${N} notifications per contender, fake APNs in its own process, ${new Date().toISOString()}`,
  );
  console.log(
    'contender'.padEnd(42),
    'sent ok'.padStart(8),
    'per s'.padStart(8),
    'vs loop'.padStart(8),
    'vs parse'.padStart(9),
    'CPU ms/push'.padStart(12),
    'fake CPU ms/push'.padStart(17),
    'broker CPU ms/push'.padStart(19),
    'RSS MB'.padStart(8),
  );
  for (const r of results) {
    console.log(
      r.name.padEnd(42),
      String(r.ok).padStart(8),
      rate(r).toFixed(0).padStart(8),
      (rate(r) / rate(loop)).toFixed(2).padStart(8),
      (rate(r) / rate(parse)).toFixed(2).padStart(9),
      (r.cpuMs / Math.max(1, r.ok)).toFixed(3).padStart(12),
      (r.fakeCpuMs / Math.max(1, r.ok)).toFixed(3).padStart(17),
      (r.brokerCpuMs === undefined ? '-' : (r.brokerCpuMs / Math.max(1, r.ok)).toFixed(3)).padStart(
        19,
      ),
      r.memMb.toFixed(0).padStart(8),
    );
  }
  console.log(
    'RSS: in-process contenders share the bench process (cumulative); the dispatcher row is its own peak RSS.',
  );
  await broker.destroy();
}

void main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
