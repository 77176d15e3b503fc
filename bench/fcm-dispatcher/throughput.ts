/**
 * Messages per second to the fake FCM, one dispatcher instance (Kafka in, outcomes out), against
 * bare firebase-admin `sendEach` with the same messages, the same agent settings and the same fake,
 * in the same run. The fake runs in its own process, the dispatcher in its own (as deployed), the
 * baseline in this one.
 *
 *   npx tsx bench/fcm-dispatcher/throughput.ts [--messages 20000] [--env FCM_X=y ...] [--rounds 3] [--profile]
 *     [--compare-root <another checkout>] [--compare-env FCM_X=z ...]
 *
 * `--profile` writes a CPU profile of each dispatcher round to .local/fcm-profiles
 * (summarise with bench/apns-dispatcher/profile-summary.ts).
 *
 * Uses its own broker on 127.0.0.1:19592 (started if needed), so nothing reaches shared topics.
 */
import { TOPICS, type FcmRequest } from '@app/contracts';
import { EventProducer, outbound, setGroupOffsetsAtEnd } from '@app/kafka';
import {
  startDisposableBroker,
  uniqueId,
  waitFor,
  writeAppsFile,
  type DisposableBroker,
} from '@app/testing';
import { procStats, ROOT, runService } from '../procs';
import type { Message } from 'firebase-admin/messaging';
import { MAX_SOCKETS, message, sendEachBaseline, startFake } from './fcm-procs';
import { Kafka, logLevel } from 'kafkajs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

/** What a compared dispatcher round changes: another checkout (`--compare-root`), or settings. */
interface Variant {
  root?: string;
  env?: Record<string, string>;
}

interface Round {
  rate: number;
  /** CPU ms per message of the dispatcher, the fake and the broker while the round ran. */
  cpu: { dispatcher: number; fake: number; broker: number };
  peakRssMb: number;
}

/**
 * The dispatcher as the service runs: its own process (sources compiled by SWC, as in the
 * integration tests), fed through Kafka. Each round produces its requests first, then starts a
 * dispatcher on a fresh group that begins where the topics ended before them, so the clock
 * measures the dispatcher and not this process producing. The clock runs from the first
 * `delivered` outcome this reader sees to the last (both seen after their commits), and the rate
 * counts the messages in between.
 */
async function dispatcherRounds(
  kafka: Kafka,
  broker: DisposableBroker,
  appsFile: string,
  appId: string,
  pids: { fake: number },
  extraEnv: Record<string, string> = {},
  nodeArgs: string[] = [],
) {
  const readerGroup = uniqueId('bench-reader');
  const admin = kafka.admin();
  await admin.connect();
  await setGroupOffsetsAtEnd(kafka, admin, readerGroup, TOPICS.pushOutcome.name);
  const reader = kafka.consumer({ groupId: readerGroup, readUncommitted: false });
  await reader.connect();
  await reader.subscribe({ topic: TOPICS.pushOutcome.name, fromBeginning: false });
  let prefix = '\0';
  let want = 1;
  const seen = new Set<string>();
  let onProgress: (count: number) => void = () => undefined;
  await reader.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const v = m.value?.toString() ?? '';
        if (v.includes(`"jobId":"${prefix}`) && v.includes('"delivered"')) {
          seen.add(/"jobId":"([^"]+)"/.exec(v)![1]);
        }
      }
      if (seen.size) onProgress(seen.size);
    },
  });
  const producer = new EventProducer(kafka);
  await producer.connect();
  const brokerPid = broker.pid?.();
  const cpuOf = (pid: number | undefined) => (pid ? procStats(pid).cpuMs : NaN);

  const round = async (n: number, tag: string, variant: Variant = {}): Promise<Round> => {
    const groupId = uniqueId(`bench-fcm-${tag}`);
    await setGroupOffsetsAtEnd(kafka, admin, groupId, [
      TOPICS.fcmRequest.name,
      TOPICS.fcmRetry.name,
    ]);
    const now = Date.now();
    const req = (i: number): FcmRequest => {
      const { token, ...msg } = message(i) as Message & { token: string };
      return {
        jobId: `${groupId}-${i}`,
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
    for (let i = 0; i < n; i += 5000) {
      await producer.send(
        Array.from({ length: Math.min(5000, n - i) }, (_, k) =>
          outbound(TOPICS.fcmRequest, req(i + k)),
        ),
      );
    }
    seen.clear();
    prefix = `${groupId}-`;
    want = n;
    const child = runService(
      'apps/fcm-dispatcher/src/main.ts',
      {
        KAFKA_BROKERS: broker.brokers.join(','),
        PUSH_APPS_FILE: appsFile,
        LOG_LEVEL: 'warn',
        HTTP_PORT: String(20000 + Math.floor(Math.random() * 20000)),
        FCM_GROUP_ID: groupId,
        FCM_MAX_SOCKETS: String(MAX_SOCKETS),
        ...extraEnv,
        ...variant.env,
      },
      nodeArgs,
      variant.root,
    );
    const kill = () => child.kill('SIGKILL');
    process.once('exit', kill);
    type Mark = { t: bigint; count: number; cpu: number; fake: number; broker: number };
    const mark = (count: number): Mark => ({
      t: process.hrtime.bigint(),
      count,
      cpu: cpuOf(child.pid),
      fake: cpuOf(pids.fake),
      broker: cpuOf(brokerPid),
    });
    let first: Mark | undefined;
    const last = await new Promise<Mark>((resolve) => {
      onProgress = (count) => {
        first ??= mark(count);
        if (count >= want) resolve(mark(count));
      };
    });
    onProgress = () => undefined;
    const peakRssMb = procStats(child.pid!).peakRssMb;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    process.removeListener('exit', kill);
    const f = first!;
    const count = last.count - f.count;
    return {
      rate: count / (Number(last.t - f.t) / 1e9),
      cpu: {
        dispatcher: (last.cpu - f.cpu) / count,
        fake: (last.fake - f.fake) / count,
        broker: (last.broker - f.broker) / count,
      },
      peakRssMb,
    };
  };
  return {
    round,
    stop: async () => {
      await reader.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string', default: '20000' },
      /** Dispatcher settings to try, e.g. --env FCM_BATCHES_IN_FLIGHT=8 */
      env: { type: 'string', multiple: true, default: [] },
      profile: { type: 'boolean', default: false },
      rounds: { type: 'string', default: '3' },
      /** Also runs the dispatcher from this checkout (e.g. main's), alternating, in the same run. */
      'compare-root': { type: 'string' },
      /** Also runs the dispatcher with these settings, alternating, in the same run. */
      'compare-env': { type: 'string', multiple: true, default: [] },
    },
  });
  const envOf = (kvs: string[]): Record<string, string> =>
    Object.fromEntries(
      kvs.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
  const extraEnv = envOf(values.env);
  const compare: Variant | undefined =
    values['compare-root'] || values['compare-env'].length
      ? { root: values['compare-root'], env: envOf(values['compare-env']) }
      : undefined;
  const n = Number(values.messages);
  const nodeArgs = values.profile
    ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, '.local/fcm-profiles')}`]
    : [];
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
  const appsFile = writeAppsFile(
    [
      {
        id: appId,
        fcm: {
          projectId: project,
          serviceAccountFile: fake.info.serviceAccountFiles[project],
          endpoint: { host: fake.info.host, port: fake.info.port, caFile: fake.info.caFile },
        },
      },
    ],
    { file: join(dir, 'apps.yaml') },
  );
  try {
    // The box may be shared and noisy: rounds alternate, and the best of each side is compared.
    const d = await dispatcherRounds(
      kafka,
      broker,
      appsFile,
      appId,
      { fake: fake.pid },
      extraEnv,
      nodeArgs,
    );
    const bare: Array<{
      inFlight: number;
      rate: number;
      rssMb: number;
      heapMb: number;
      cpuPerMsg: number;
      fakeCpuPerMsg: number;
    }> = [];
    const disp: Round[] = [];
    const compared: Round[] = [];
    for (let r = 0; r < Number(values.rounds); r++) {
      for (const inFlight of [4, 8]) {
        const b = await sendEachBaseline(fake.info, fake.pid, project, n, inFlight);
        bare.push({ ...b, inFlight, rate: n / b.seconds });
      }
      disp.push(await d.round(n, `r${r}`));
      if (compare) compared.push(await d.round(n, `c${r}`, compare));
    }
    await d.stop();
    const best = bare.reduce((a, b) => (b.rate > a.rate ? b : a));
    const bestOf = (rounds: Round[]) => rounds.reduce((a, b) => (b.rate > a.rate ? b : a));
    const bestDisp = bestOf(disp);
    const ms = (x: number) => +x.toFixed(3);
    const roundsOut = (rounds: Round[]) =>
      rounds.map((r) => ({
        rate: Math.round(r.rate),
        cpuMsPerMessage: ms(r.cpu.dispatcher),
        fakeCpuMsPerMessage: ms(r.cpu.fake),
        brokerCpuMsPerMessage: ms(r.cpu.broker),
        peakRssMb: Math.round(r.peakRssMb),
      }));
    const result = {
      messages: n,
      settings: extraEnv,
      baseline: bare.map((b) => ({
        inFlight: b.inFlight,
        rate: Math.round(b.rate),
        cpuMsPerMessage: ms(b.cpuPerMsg),
        fakeCpuMsPerMessage: ms(b.fakeCpuPerMsg),
        peakRssMb: Math.round(b.rssMb),
        peakHeapMb: Math.round(b.heapMb),
      })),
      dispatcher: roundsOut(disp),
      bestBaseline: Math.round(best.rate),
      bestDispatcher: Math.round(bestDisp.rate),
      ratio: +(bestDisp.rate / best.rate).toFixed(3),
      target: 0.8,
      ...(compare && {
        compared: {
          variant: compare,
          rounds: roundsOut(compared),
          best: Math.round(bestOf(compared).rate),
          ratio: +(bestOf(compared).rate / best.rate).toFixed(3),
        },
      }),
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
