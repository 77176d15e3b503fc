/**
 * Push tasks on their own broker (127.0.0.1:20192, topics deleted and recreated each run), one
 * decide instance holding every partition:
 *
 * 1. seed: U users (a token snapshot with an iPhone and an Android phone each, presence
 *    push_online) and restore them.
 * 2. message path (the baseline of the same run): N intents already in push.intent.v1, decided
 *    and committed; intents decided per second.
 * 3. push task: an all-user push (rate 100,000/s, the contract's cap, so the limiter is not what
 *    is measured) written by the pushes API's splitter, one record per partition; time from the
 *    records written to every partition's checkpoint `done`; users decided per second, and the
 *    ratio to the message path's intents per second.
 * 4. memory: the heap the token state gains per user when every snapshot carries 10 tags and 5
 *    attributes (node --expose-gc for this step; skipped without it).
 *
 *   node --expose-gc --import tsx bench/routing/tasks.ts [users=100000] [intents=20000]
 */
import { TOPICS, type PushIntent, type TokenUserDevices } from '@app/contracts';
import { EventProducer, outbound, runnerFor } from '@app/kafka';
import { startDisposableBroker } from '@app/testing';
import type { Admin } from 'kafkajs';
import { DecideConsumer } from '@apps/routing/decide/decide.consumer';
import { DecideState } from '@apps/routing/decide/decide.state';
import { splitTask } from '@apps/routing/messages/pushes.service';
import { decideGroupOptions } from '@apps/routing/routing.groups';
import { benchApps, c2cIntent, userSnapshots } from './bench.fixtures';
import { benchKafka, endOffsets, freshTopics, produceAll, untilCommitted } from './bench.kafka';

const APP = 'bench';
const PARTITIONS = 12;
const apps = benchApps(APP);
const log = (o: object) => console.log(JSON.stringify(o));
const secs = (ms: number) => Number((ms / 1000).toFixed(2));

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function seed(producer: EventProducer, users: number): Promise<void> {
  const t = performance.now();
  const tokens = function* () {
    for (let i = 0; i < users; i++) yield userSnapshots(APP, `user${i}`).tokens;
  };
  const presence = function* () {
    for (let i = 0; i < users; i++) yield userSnapshots(APP, `user${i}`).presence;
  };
  await produceAll(producer, TOPICS.tokenUserDevices, tokens());
  await produceAll(producer, TOPICS.presenceUserState, presence());
  log({ step: 'seeded', users, seconds: secs(performance.now() - t) });
}

function intents(n: number, users: number): Generator<PushIntent> {
  return (function* () {
    for (let i = 0; i < n; i++) {
      const userId = `user${(i * 7919) % users}`;
      yield c2cIntent(APP, userId, `m${i}`, new Date().toISOString());
    }
  })();
}

/** Messages first (the baseline), then the all-user task, on the same decide instance. */
async function run(admin: Admin, producer: EventProducer, decide: DecideConsumer, n: number) {
  const users = decide.state.tokens.size;
  const target = (await endOffsets(admin, TOPICS.pushIntent.name)) + BigInt(n);
  const t0 = performance.now();
  await produceAll(producer, TOPICS.pushIntent, intents(n, users));
  const intentMs = await untilCommitted(
    admin,
    'bench-tasks',
    TOPICS.pushIntent.name,
    target,
    t0,
    600_000,
  );
  const intentRate = n / (intentMs / 1000);
  log({
    step: 'message path',
    intents: n,
    seconds: secs(intentMs),
    intentsPerSecond: Math.round(intentRate),
  });
  const req = {
    offlinePush: { title: 'Notice', desc: 'Maintenance tonight 2:00-3:00' },
    audience: { all: true as const },
    options: { badge: 'none' as const, includeOnline: false, rate: 100_000 },
    ttlSeconds: 86400,
  };
  const records = splitTask(APP, crypto.randomUUID(), req, PARTITIONS, new Date());
  const taskId = records[0].taskId;
  const t1 = performance.now();
  await producer.send(records.map((r) => outbound(TOPICS.pushTask, r, { partition: r.partition })));
  const done = () =>
    [...decide.tasks.progress.values()].filter((p) => p.taskId === taskId && p.state === 'done')
      .length === PARTITIONS;
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
  await until(done, 3_600_000);
  clearInterval(sampler);
  const taskMs = performance.now() - t1;
  const decided = [...decide.tasks.progress.values()]
    .filter((p) => p.taskId === taskId)
    .reduce((s, p) => s + p.decided, 0);
  const rate = decided / (taskMs / 1000);
  log({
    step: 'all-user push',
    users: decided,
    seconds: secs(taskMs),
    usersPerSecondPerInstance: Math.round(rate),
    ratioToMessagePath: Number((rate / intentRate).toFixed(2)),
    peakRssMiB: Math.round(peakRss / 2 ** 20),
  });
}

/** Heap per user with and without 10 tags and 5 attributes in the snapshots (forced GCs). */
function tagMemory(users: number): void {
  const gc = (global as { gc?: () => void }).gc;
  if (!gc) {
    log({ step: 'tag memory', skipped: 'run with node --expose-gc' });
    return;
  }
  const measure = (withTags: boolean) => {
    gc();
    const before = process.memoryUsage().heapUsed;
    const state = new DecideState();
    for (let i = 0; i < users; i++) {
      const t: TokenUserDevices = { ...userSnapshots(APP, `user${i}`).tokens };
      if (withTags) {
        t.tags = Array.from({ length: 10 }, (_, k) => `segment-${(i + k) % 40}`).sort();
        t.attributes = {
          city: `city-${i % 300}`,
          tier: `t${i % 4}`,
          lang: 'en',
          os: 'ios',
          v: `${i % 9}`,
        };
      }
      // Through JSON and the schema, as the consumer holds them.
      const v = TOPICS.tokenUserDevices.schema.parse(JSON.parse(JSON.stringify(t)));
      state.applyTokens(`${APP}:user${i}`, v, i % PARTITIONS);
    }
    gc();
    const bytes = process.memoryUsage().heapUsed - before;
    return { bytes, keep: state };
  };
  const plain = measure(false);
  const tagged = measure(true);
  log({
    step: 'tag memory',
    users,
    bytesPerUserWithout: Math.round(plain.bytes / users),
    bytesPerUserWith10Tags5Attributes: Math.round(tagged.bytes / users),
    addedBytesPerUser: Math.round((tagged.bytes - plain.bytes) / users),
    held: plain.keep.tokens.size + tagged.keep.tokens.size,
  });
}

async function main(): Promise<void> {
  const users = Number(process.argv[2] ?? 100_000);
  const n = Number(process.argv[3] ?? 20_000);
  tagMemory(Math.min(users, 100_000));
  const broker = await startDisposableBroker(20192);
  const kafka = benchKafka(broker.brokers, 'tasks-bench');
  const admin = kafka.admin();
  await admin.connect();
  const producer = new EventProducer(kafka);
  await producer.connect();
  try {
    await freshTopics(admin, PARTITIONS);
    await seed(producer, users);
    const decide = new DecideConsumer(apps, { dedupeWindow: 16 });
    const runner = runnerFor(kafka, producer, decideGroupOptions('bench-tasks'), [decide]);
    const t = performance.now();
    await runner.start();
    await until(() => runner.isRestored() && decide.state.tokens.size >= users, 1_800_000);
    log({ step: 'restored', users, seconds: secs(performance.now() - t) });
    await run(admin, producer, decide, n);
    await runner.stop();
  } finally {
    await producer.disconnect();
    await admin.disconnect();
    await broker.destroy();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
