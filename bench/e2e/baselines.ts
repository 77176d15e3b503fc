/**
 * The end-to-end benchmark's baselines, against the same fakes in the same run:
 * - the passthrough: the machine's limit for this path (Kafka in, HTTP/2 out, offsets committed,
 *   no logic): kafkajs consumes a topic of prebuilt APNs requests and posts each one to the fake
 *   APNs over raw node:http2 (4 sessions x 200 streams, the dispatcher's defaults);
 * - @parse/push-adapter sending the same notifications (bench/apns-dispatcher/baselines.ts);
 * - bare firebase-admin `sendEach` (bench/fcm-dispatcher/fcm-procs.ts).
 * Each reports pushes/s and the CPU it cost (this process, the fake, the broker).
 */
import type { ApnsRequest } from '@app/contracts';
import { apnsRequest } from '@app/testing';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { openSessions, parseAdapter, postRaw, type Work } from '../apns-dispatcher/baselines';
import type { FakeProcess } from '../apns-dispatcher/bench-procs';
import { sendEachBaseline, type FakeInfo } from '../fcm-dispatcher/fcm-procs';
import { procStats } from '../procs';
import { APNS_TOPIC, FCM_PROJECT, tokenOf } from './population';

export interface BaselineResult {
  name: string;
  pushes: number;
  seconds: number;
  perSecond: number;
  /** CPU ms per 1,000 pushes: the contender (this process), the fake, the broker. */
  cpuMsPer1000: { contender: number; fake: number; broker?: number };
}

const SESSIONS = 4;
const WINDOW = 200;
const PASSTHROUGH_TOPIC = 'bench.e2e.passthrough';

/** What routing renders for a group message (the fakes receive the same kind of body). */
export function apnsPayload(i: number): Record<string, unknown> {
  return {
    aps: {
      alert: { title: 'Weekend hikers', body: `Alice: Are we still on for Saturday? (${i})` },
      sound: 'default',
      badge: (i % 99) + 1,
      'thread-id': 'group:g-7',
    },
    ext: `baseline-${i}`,
  };
}

const iosToken = (i: number) => tokenOf(2 * i);

/** A slot limiter: at most `n` at once. */
function limiter(n: number) {
  let free = n;
  const waiting: Array<() => void> = [];
  return {
    async take(): Promise<void> {
      if (free > 0) {
        free--;
        return;
      }
      await new Promise<void>((r) => waiting.push(r));
    },
    give(): void {
      const w = waiting.shift();
      if (w) w();
      else free++;
    },
  };
}

async function createTopic(admin: Admin, topic: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 12, replicationFactor: 1 }] });
      break;
    } catch (e) {
      // A broker just started answers UNKNOWN_TOPIC_OR_PARTITION while its leaders settle.
      if (i > 50) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  for (let i = 0; i < 100; i++) {
    try {
      const offs = await admin.fetchTopicOffsets(topic);
      if (offs.length === 12) return;
    } catch {
      // leaders not elected yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function passthrough(
  brokers: string[],
  fake: FakeProcess,
  n: number,
  brokerPid: number | undefined,
): Promise<BaselineResult> {
  const kafka = new Kafka({ clientId: 'bench-passthrough', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await createTopic(admin, PASSTHROUGH_TOPIC);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const now = Date.now();
  for (let i = 0; i < n; i += 2000) {
    const messages = [];
    for (let k = i; k < Math.min(n, i + 2000); k++) {
      const r: ApnsRequest = apnsRequest('bench', iosToken(k), {
        jobId: `pt-${k}`,
        userId: `u${2 * k}`,
        deviceId: 'phone',
        messageId: `pt-${k}`,
        expiresAt: new Date(now + 3_600_000).toISOString(),
        topic: APNS_TOPIC,
        payload: apnsPayload(k),
      });
      messages.push({ key: r.userId, value: JSON.stringify(r) });
    }
    await producer.send({ topic: PASSTHROUGH_TOPIC, acks: -1, messages });
  }
  await producer.disconnect();

  const { conns, auth } = await openSessions(fake, SESSIONS);
  const slots = limiter(SESSIONS * WINDOW);
  let ok = 0;
  let sent = 0;
  let t0 = 0;
  let cpu0 = process.cpuUsage();
  let fake0 = 0;
  let broker0 = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => (done = r));
  const consumer = kafka.consumer({
    groupId: `bench-passthrough-${now}`,
    maxBytesPerPartition: 1 << 20,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: PASSTHROUGH_TOPIC, fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: 12,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat }) => {
      if (t0 === 0) {
        t0 = performance.now();
        cpu0 = process.cpuUsage();
        fake0 = procStats(fake.child.pid!).cpuMs;
        broker0 = brokerPid ? procStats(brokerPid).cpuMs : 0;
      }
      const posts: Promise<void>[] = [];
      for (const m of batch.messages) {
        await slots.take();
        const r = JSON.parse(m.value!.toString('utf8')) as ApnsRequest;
        const session = conns[sent++ % SESSIONS];
        posts.push(
          postRaw(session, auth, r.topic, r.token, JSON.stringify(r.payload)).then((status) => {
            slots.give();
            if (status === 200 && ++ok === n) done();
          }),
        );
      }
      await Promise.all(posts);
      const last = batch.messages[batch.messages.length - 1];
      if (last) resolveOffset(last.offset);
      await commitOffsetsIfNecessary();
      await heartbeat();
    },
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    finished,
    new Promise((_, rej) => {
      timer = setTimeout(() => rej(new Error(`passthrough: ${ok} of ${n} after 180 s`)), 180000);
    }),
  ]);
  clearTimeout(timer);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const fakeMs = procStats(fake.child.pid!).cpuMs - fake0;
  const brokerMs = brokerPid ? procStats(brokerPid).cpuMs - broker0 : NaN;
  await consumer.disconnect();
  conns.forEach((c) => c.close());
  await admin.deleteTopics({ topics: [PASSTHROUGH_TOPIC] }).catch(() => undefined);
  await admin.disconnect();
  return {
    name: 'passthrough (kafkajs -> node:http2, commits)',
    pushes: ok,
    seconds,
    perSecond: ok / seconds,
    cpuMsPer1000: {
      contender: (((cpu.user + cpu.system) / 1000) * 1000) / ok,
      fake: (fakeMs * 1000) / ok,
      broker: (brokerMs * 1000) / ok,
    },
  };
}

export async function parsePushAdapter(fake: FakeProcess, n: number): Promise<BaselineResult> {
  const work: Work = {
    topic: APNS_TOPIC,
    tokens: Array.from({ length: n }, (_, i) => iosToken(i)),
    payloads: Array.from({ length: n }, (_, i) => JSON.stringify(apnsPayload(i))),
  };
  const cpu0 = process.cpuUsage();
  const fake0 = procStats(fake.child.pid!).cpuMs;
  const t0 = performance.now();
  const ok = await parseAdapter(fake, work, 1000);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    name: '@parse/push-adapter APNS.send (1,000 a call)',
    pushes: ok,
    seconds,
    perSecond: ok / seconds,
    cpuMsPer1000: {
      contender: (cpu.user + cpu.system) / ok,
      fake: ((procStats(fake.child.pid!).cpuMs - fake0) * 1000) / ok,
    },
  };
}

export async function bareSendEach(
  fake: { info: FakeInfo; pid: number },
  n: number,
): Promise<BaselineResult> {
  const r = await sendEachBaseline(fake.info, fake.pid, FCM_PROJECT, n, 8);
  return {
    name: 'firebase-admin sendEach (8 x 500 in flight)',
    pushes: n,
    seconds: r.seconds,
    perSecond: n / r.seconds,
    cpuMsPer1000: { contender: r.cpuPerMsg * 1000, fake: r.fakeCpuPerMsg * 1000 },
  };
}
