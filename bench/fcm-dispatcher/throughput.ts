/**
 * Messages per second to the fake FCM, one dispatcher instance (Kafka in, outcomes out), against
 * bare firebase-admin `sendEach` with the same messages, the same agent settings and the same fake,
 * in the same run. The fake runs in its own process, the dispatcher in its own (as deployed), the
 * baseline in this one.
 *
 *   npx tsx bench/fcm-dispatcher/throughput.ts [--messages 20000]
 *
 * Uses its own broker on 127.0.0.1:19592 (started if needed), so nothing reaches shared topics.
 */
import { TOPICS, type FcmRequest } from '@app/contracts';
import { hashApiKey } from '@app/config';
import { EventProducer, outbound } from '@app/kafka';
import { startDisposableBroker, uniqueId, waitFor } from '@app/testing';
import { initializeApp, deleteApp } from 'firebase-admin/app';
import { getMessaging, type Message } from 'firebase-admin/messaging';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { RedirectAgent } from '../../apps/fcm-dispatcher/src/firebase/redirect.agent';
import { ServiceAccountCredential } from '../../apps/fcm-dispatcher/src/firebase/service-account.credential';

const ROOT = resolve(__dirname, '../..');
const MAX_SOCKETS = 64;
const BATCH = 500;

interface FakeInfo {
  host: string;
  port: number;
  caFile: string;
  serviceAccountFiles: Record<string, string>;
}

async function startFake(
  dir: string,
  project: string,
): Promise<{ info: FakeInfo; stop: () => void }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'libs/testing/src/fake-fcm/fake-fcm.main.ts',
      '--dir',
      dir,
      '--project',
      project,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((res, rej) => {
    createInterface({ input: child.stdout }).once('line', res);
    child.once('exit', (code) => rej(new Error(`fake exited with ${code}`)));
  });
  return { info: JSON.parse(line) as FakeInfo, stop: () => child.kill('SIGTERM') };
}

function message(i: number): Message {
  return {
    token: `ok-bench-${String(i).padStart(8, '0')}`,
    notification: { title: 'Weekend hikers', body: 'Alice: Look at this' },
    data: { ext: '{"entity":{"id":1}}', conversation: 'group:g-7' },
    android: { priority: 'high', ttl: 600_000 },
  };
}

/** Sampled peak RSS and heap while `fn` runs. */
async function measured<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; seconds: number; rssMb: number; heapMb: number }> {
  let rss = 0;
  let heap = 0;
  const sample = () => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
  };
  const timer = setInterval(sample, 50);
  const t0 = process.hrtime.bigint();
  const value = await fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  clearInterval(timer);
  sample();
  return { value, seconds, rssMb: rss / 2 ** 20, heapMb: heap / 2 ** 20 };
}

async function baseline(fake: FakeInfo, project: string, n: number, inFlight: number) {
  const sa = JSON.parse(readFileSync(fake.serviceAccountFiles[project], 'utf8')) as {
    client_email: string;
    private_key: string;
  };
  const agent = new RedirectAgent(
    { host: fake.host, port: fake.port, ca: readFileSync(fake.caFile, 'utf8') },
    { maxSockets: MAX_SOCKETS },
  );
  const app = initializeApp(
    { credential: new ServiceAccountCredential(sa, agent), projectId: project, httpAgent: agent },
    uniqueId('bare'),
  );
  const messaging = getMessaging(app);
  messaging.enableLegacyHttpTransport();
  await messaging.sendEach([message(-1)]); // token and connections warm, as for the dispatcher
  const r = await measured(async () => {
    let next = 0;
    let ok = 0;
    const worker = async () => {
      while (next < n) {
        const start = next;
        next = Math.min(n, next + BATCH);
        const batch = Array.from({ length: next - start }, (_, k) => message(start + k));
        const res = await messaging.sendEach(batch);
        ok += res.successCount;
        const err = res.responses.find((x) => !x.success)?.error;
        if (err)
          console.error(`baseline: ${res.failureCount} failed, e.g. ${err.code}: ${err.message}`);
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    return ok;
  });
  await deleteApp(app);
  agent.destroy();
  if (r.value !== n) throw new Error(`baseline delivered ${r.value} of ${n}`);
  return r;
}

/** Commits a group's offsets at the topic's end (kafkajs's resetOffsets commits the -1 sentinel). */
async function startAtEnd(admin: Admin, groupId: string, topic: string): Promise<void> {
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.setOffsets({
    groupId,
    topic,
    partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })),
  });
}

/** Peak RSS of another process (Linux), in MB. */
function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * The dispatcher as the service runs: its own process (sources compiled by SWC, as in the
 * integration tests), fed through Kafka; the clock runs from the first request produced to the
 * last `delivered` outcome committed.
 */
async function startDispatcher(
  kafka: Kafka,
  brokers: string[],
  appsFile: string,
  appId: string,
  extraEnv: Record<string, string> = {},
) {
  const groupId = uniqueId('bench-fcm');
  // The broker keeps earlier runs' requests: this group starts at the end of its topics.
  const admin = kafka.admin();
  await admin.connect();
  for (const topic of [TOPICS.fcmRequest.name, TOPICS.fcmRetry.name])
    await startAtEnd(admin, groupId, topic);
  const readerGroup = uniqueId('bench-reader');
  await startAtEnd(admin, readerGroup, TOPICS.pushOutcome.name);
  await admin.disconnect();
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(
    process.execPath,
    ['-r', './libs/testing/src/swc-register.js', 'apps/fcm-dispatcher/src/main.ts'],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        KAFKA_BROKERS: brokers.join(','),
        PUSH_APPS_FILE: appsFile,
        LOG_LEVEL: 'warn',
        HTTP_PORT: String(port),
        FCM_GROUP_ID: groupId,
        FCM_MAX_SOCKETS: String(MAX_SOCKETS),
        ...extraEnv,
      },
    },
  );
  process.once('exit', () => child.kill('SIGKILL'));
  const reader = kafka.consumer({ groupId: readerGroup, readUncommitted: false });
  await reader.connect();
  await reader.subscribe({ topic: TOPICS.pushOutcome.name, fromBeginning: false });
  const seen = new Set<string>();
  let want = 1;
  let done!: () => void;
  let finished = new Promise<void>((r) => (done = r));
  await reader.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const v = m.value?.toString() ?? '';
        if (v.includes(`"jobId":"${groupId}-`) && v.includes('"delivered"'))
          seen.add(/"jobId":"([^"]+)"/.exec(v)![1]);
      }
      if (seen.size >= want) done();
    },
  });
  const producer = new EventProducer(kafka);
  await producer.connect();
  const now = Date.now();
  const req = (i: number, round: string): FcmRequest => {
    const { token, ...msg } = message(i) as Message & { token: string };
    return {
      jobId: `${groupId}-${round}-${i}`,
      appId,
      userId: `u${i % 997}`,
      deviceId: 'pixel',
      messageId: `m${i}`,
      token,
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + 3_600_000).toISOString(),
      attempt: 0,
      message: { ...msg, android: { priority: 'high', ttl: '600s' } },
    };
  };
  const round = async (n: number, tag: string): Promise<number> => {
    seen.clear();
    want = n;
    finished = new Promise<void>((r) => (done = r));
    const requests = Array.from({ length: n }, (_, i) => req(i, tag));
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i += 5000)
      await producer.send(requests.slice(i, i + 5000).map((q) => outbound(TOPICS.fcmRequest, q)));
    await finished;
    return Number(process.hrtime.bigint() - t0) / 1e9;
  };
  // Warm-up: jobs through, so the group has joined and the OAuth token is fetched.
  await round(500, 'warm');
  return {
    round,
    stop: async (): Promise<number> => {
      const rssMb = peakRssMb(child.pid!);
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await reader.disconnect();
      await producer.disconnect();
      return rssMb;
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string', default: '20000' },
      /** Dispatcher settings to try, e.g. --env FCM_BATCHES_IN_FLIGHT=8 */
      env: { type: 'string', multiple: true, default: [] },
    },
  });
  const extraEnv = Object.fromEntries(values.env.map((kv) => kv.split('=', 2) as [string, string]));
  const n = Number(values.messages);
  const broker = await startDisposableBroker(19592);
  const kafka = new Kafka({
    clientId: 'bench-fcm',
    brokers: broker.brokers,
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  // A broker just started may not have elected every leader yet.
  await waitFor(() => admin.fetchTopicOffsets(TOPICS.fcmRequest.name).then(() => true), {
    what: 'partition leaders',
    timeoutMs: 60_000,
  });
  await admin.disconnect();

  const dir = mkdtempSync(join(tmpdir(), 'bench-fcm-'));
  const appId = uniqueId('bench');
  const project = `${appId}-project`;
  const fake = await startFake(dir, project);
  process.once('exit', fake.stop);
  const appsFile = join(dir, 'apps.yaml');
  writeFileSync(
    appsFile,
    stringify({
      apps: [
        {
          id: appId,
          apiKeys: [hashApiKey(`${appId}-key`)],
          fcm: {
            projectId: project,
            serviceAccountFile: fake.info.serviceAccountFiles[project],
            endpoint: { host: fake.info.host, port: fake.info.port, caFile: fake.info.caFile },
          },
        },
      ],
    }),
  );
  try {
    // The box is shared and noisy: rounds alternate, and the best of each side is compared.
    const d = await startDispatcher(kafka, broker.brokers, appsFile, appId, extraEnv);
    const bare: Array<{ inFlight: number; rate: number; rssMb: number; heapMb: number }> = [];
    const disp: number[] = [];
    for (let r = 0; r < 3; r++) {
      for (const inFlight of [4, 8]) {
        const b = await baseline(fake.info, project, n, inFlight);
        bare.push({ inFlight, rate: n / b.seconds, rssMb: b.rssMb, heapMb: b.heapMb });
      }
      disp.push(n / (await d.round(n, `r${r}`)));
    }
    const peakRssMb = await d.stop();
    const best = bare.reduce((a, b) => (b.rate > a.rate ? b : a));
    const bestDisp = Math.max(...disp);
    const result = {
      messages: n,
      settings: extraEnv,
      baseline: bare.map((b) => ({
        inFlight: b.inFlight,
        rate: Math.round(b.rate),
        peakRssMb: Math.round(b.rssMb),
        peakHeapMb: Math.round(b.heapMb),
      })),
      dispatcher: { rates: disp.map(Math.round), peakRssMb: Math.round(peakRssMb) },
      bestBaseline: Math.round(best.rate),
      bestDispatcher: Math.round(bestDisp),
      ratio: +(bestDisp / best.rate).toFixed(3),
      target: 0.8,
    };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    fake.stop();
  }
  process.exit(0);
}

void main().catch((e: Error) => {
  console.error(e);
  process.exit(1);
});
