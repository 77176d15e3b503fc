/**
 * Routing on its own broker (127.0.0.1:19392, started if needed, left running for the next run):
 *
 * 1. restore: a decide instance reads the state of U users (tokens, presence, badges; three
 *    compacted records per user) before it decides anything. Baseline: the same co-partitioned
 *    runner with no-op handlers (the Kafka read alone).
 * 2. decide: N intents (c2c, two devices per user) already in push.intent.v1, decided and
 *    committed (requests + badge changelog + offsets in one transaction per batch). Baselines: the
 *    same transactional runner with a no-op input handler, and with a handler that writes
 *    prebuilt records of decide's number and size (Kafka's share). Results as ratios.
 * 3. fan-out: time from a group message to its offset committed after the last intent, for 10,000
 *    and 100,000 members, with the peak heap growth during it. Baseline: the same intents
 *    produced directly (no consumer).
 *
 *   npx tsx bench/routing/pipeline.ts [users=50000] [intents=20000]
 */
import { TOPICS, type PushIntent } from '@app/contracts';
import {
  ConsumerRunner,
  EventProducer,
  outbound,
  runnerFor,
  setGroupOffsetsAtEnd,
  type ConsumedRecord,
} from '@app/kafka';
import { startDisposableBroker } from '@app/testing';
import type { Admin, Kafka } from 'kafkajs';
import { DecideConsumer } from '@apps/routing/decide/decide.consumer';
import { FanoutConsumer } from '@apps/routing/fanout/fanout.consumer';
import { decideGroupOptions, FANOUT_GROUP } from '@apps/routing/routing.groups';
import { IntentWriter } from '@apps/routing/fanout/intent.writer';
import { benchApps, userSnapshots } from './bench.fixtures';
import { benchKafka, endOffsets, freshTopics, produceAll, untilCommitted } from './bench.kafka';

const APP = 'bench';
const apps = benchApps(APP);
const log = (o: object) => console.log(JSON.stringify(o));
const secs = (ms: number) => Number((ms / 1000).toFixed(2));

function message(messageId: string, conv: { type: 'c2c' | 'group'; id: string }, to?: string) {
  return {
    appId: APP,
    messageId,
    sentAt: new Date().toISOString(),
    conversation: { ...conv, name: conv.type === 'group' ? 'Bench group' : null },
    sender: { userId: 'sender', nickname: 'Sender', nameCard: null },
    recipients: to ? [to] : null,
    elements: [{ type: 'text' as const, text: 'Are we still on for Saturday?' }],
    mentions: null,
    offlinePush: null,
    ttlSeconds: 3600,
  };
}

async function until(cond: () => boolean, timeoutMs = 120000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Start → restored → input committed to the end, for a runner over the decide topics. */
async function runOnce(
  admin: Admin,
  runner: ConsumerRunner,
  groupId: string,
  target: bigint,
): Promise<{ restoreMs: number; decideMs: number }> {
  const t0 = performance.now();
  await runner.start();
  await until(() => runner.isRestored());
  const restored = performance.now();
  const decideMs = await untilCommitted(admin, groupId, TOPICS.pushIntent.name, target, restored);
  await runner.stop();
  return { restoreMs: restored - t0, decideMs };
}

/**
 * The same runner; its input handler does nothing (`echo` false) or writes, per intent, records
 * of the size and number decide writes (an APNs and an FCM request and a badge record, prebuilt):
 * the Kafka cost of deciding without the deciding.
 */
function baselineRunner(
  kafka: Kafka,
  producer: EventProducer,
  groupId: string,
  echo: boolean,
): ConsumerRunner {
  const noop = async () => undefined;
  const probe = userSnapshots(APP, 'user0');
  const now = new Date().toISOString();
  const base = {
    appId: APP,
    userId: 'user0',
    deviceId: 'ios-0',
    messageId: 'm0',
    createdAt: now,
    expiresAt: now,
    attempt: 0,
  };
  const apnsValue = {
    ...base,
    jobId: '00000000-0000-0000-0000-000000000000',
    token: probe.tokens.devices[0].token,
    topic: 'com.example.chat',
    environment: 'production' as const,
    pushType: 'alert' as const,
    priority: 10 as const,
    collapseId: null,
    payload: {
      aps: {
        alert: { title: 'Sender', body: 'Are we still on for Saturday?' },
        sound: 'default',
        badge: 4,
        'thread-id': 'c2c:sender',
      },
    },
  };
  const fcmValue = {
    ...base,
    jobId: '00000000-0000-0000-0000-000000000001',
    token: probe.tokens.devices[1].token,
    message: {
      notification: { title: 'Sender', body: 'Are we still on for Saturday?' },
      android: {
        priority: 'high',
        ttl: '3600s',
        notification: { sound: 'default', tag: 'c2c:sender', notification_count: 4 },
      },
      data: { messageId: 'm0', conversation: 'c2c:sender' },
    },
  };
  // As decide does, a transaction carries about 512 KB; the rest of the batch is read again.
  const perIntent = [apnsValue, fcmValue, probe.badges].reduce(
    (a, v) => a + JSON.stringify(v).length + 200,
    0,
  );
  const take = Math.max(1, Math.floor((512 * 1024) / perIntent));
  const echoHandler = async (rs: ConsumedRecord<PushIntent>[]) => ({
    records: rs.slice(0, take).flatMap((r) => {
      const key = r.key ?? undefined;
      return [
        outbound(TOPICS.apnsRequest, apnsValue, { key, context: r.context }),
        outbound(TOPICS.fcmRequest, fcmValue, { key, context: r.context }),
        outbound(
          TOPICS.routingBadgeState,
          { ...probe.badges, userId: r.value.userId },
          { context: r.context },
        ),
      ];
    }),
    deferFrom: rs.length > take ? { offset: rs[take].offset, until: Date.now() } : undefined,
  });
  return new ConsumerRunner(kafka, producer, {
    groupId,
    copartitioned: true,
    transactional: { idPrefix: groupId },
    subscriptions: [
      { topic: TOPICS.presenceUserState, role: 'state', handle: noop },
      { topic: TOPICS.tokenUserDevices, role: 'state', handle: noop },
      { topic: TOPICS.routingBadgeState, role: 'state', handle: noop },
      { topic: TOPICS.pushIntent, handle: echo ? echoHandler : noop },
    ],
  });
}

async function benchDecide(
  kafka: Kafka,
  admin: Admin,
  producer: EventProducer,
  users: number,
  intents: number,
) {
  let t = performance.now();
  const snaps = Array.from({ length: users }, (_, i) => userSnapshots(APP, `user${i}`));
  await produceAll(
    producer,
    TOPICS.tokenUserDevices,
    snaps.map((s) => s.tokens),
  );
  await produceAll(
    producer,
    TOPICS.presenceUserState,
    snaps.map((s) => s.presence),
  );
  await produceAll(
    producer,
    TOPICS.routingBadgeState,
    snaps.map((s) => s.badges),
  );
  log({ step: 'seeded state', users, records: users * 3, seconds: secs(performance.now() - t) });
  t = performance.now();
  const intentValues = function* (): Generator<PushIntent> {
    for (let i = 0; i < intents; i++) {
      const userId = `user${(i * 7919) % users}`;
      yield {
        appId: APP,
        userId,
        message: message(`m${i}`, { type: 'c2c', id: 'sender' }, userId),
        fanoutAt: new Date().toISOString(),
      };
    }
  };
  await produceAll(producer, TOPICS.pushIntent, intentValues());
  const target = await endOffsets(admin, TOPICS.pushIntent.name);
  log({ step: 'produced intents', intents, seconds: secs(performance.now() - t) });

  const base = await runOnce(
    admin,
    baselineRunner(kafka, producer, 'bench-noop', false),
    'bench-noop',
    target,
  );
  const echo = await runOnce(
    admin,
    baselineRunner(kafka, producer, 'bench-echo', true),
    'bench-echo',
    target,
  );
  const decide = new DecideConsumer(apps, { dedupeWindow: 16 });
  const runner = runnerFor(kafka, producer, decideGroupOptions('bench-decide'), [decide]);
  const real = await runOnce(admin, runner, 'bench-decide', target);
  const heldUsers = decide.state.tokens.size;
  log({
    step: 'restore',
    users,
    records: users * 3,
    decideSeconds: secs(real.restoreMs),
    baselineSeconds: secs(base.restoreMs),
    ratio: Number((base.restoreMs / real.restoreMs).toFixed(2)),
    extrapolatedSecondsPerMillionUsers: Number(((real.restoreMs / 1000 / users) * 1e6).toFixed(0)),
    heldUsers,
  });
  const rate = intents / (real.decideMs / 1000);
  const baseRate = intents / (base.decideMs / 1000);
  const echoRate = intents / (echo.decideMs / 1000);
  log({
    step: 'decide',
    intents,
    requests: intents * 2,
    seconds: secs(real.decideMs),
    intentsPerSecond: Math.round(rate),
    baselineIntentsPerSecond: Math.round(baseRate),
    ratioToBaseline: Number((rate / baseRate).toFixed(3)),
    echoBaselineIntentsPerSecond: Math.round(echoRate),
    ratioToEchoBaseline: Number((rate / echoRate).toFixed(2)),
  });
}

async function benchFanout(kafka: Kafka, admin: Admin, producer: EventProducer) {
  const sizes = [10_000, 100_000];
  for (const size of sizes) {
    await producer.send([
      outbound(TOPICS.imGroupMembers, {
        appId: APP,
        groupId: `g${size}`,
        members: Array.from({ length: size }, (_, i) => `user${i}`),
      }),
    ]);
  }
  await setGroupOffsetsAtEnd(kafka, admin, 'bench-fanout', TOPICS.imMessageSent.name);
  const stage = new FanoutConsumer(producer, apps, { chunk: 2000, unknownGroupGraceMs: 0 });
  const runner = runnerFor(
    kafka,
    producer,
    { group: FANOUT_GROUP, groupId: 'bench-fanout', copartitioned: true },
    [stage],
  );
  await runner.start();
  await until(() => runner.isRestored() && stage.groups.size >= sizes.length);
  for (const size of sizes) {
    const start = await endOffsets(admin, TOPICS.imMessageSent.name);
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let peak = heapBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 10);
    const t = performance.now();
    await producer.send([
      outbound(TOPICS.imMessageSent, message(`fan-${size}`, { type: 'group', id: `g${size}` })),
    ]);
    const ms = await untilCommitted(
      admin,
      'bench-fanout',
      TOPICS.imMessageSent.name,
      start + 1n,
      t,
      300000,
    );
    clearInterval(sampler);
    // Baseline: the same intents produced directly by the same writer, no consumer around it.
    const tb = performance.now();
    const writer = new IntentWriter(producer, 2000);
    const m = TOPICS.imMessageSent.schema.parse(
      message(`base-${size}`, { type: 'group', id: `g${size}` }),
    );
    const at = new Date().toISOString();
    for (let i = 0; i < size; i++) await writer.add(m, `user${i}`, at, { correlationId: 'bench' });
    await writer.flush();
    const baseMs = performance.now() - tb;
    log({
      step: 'fan-out',
      members: size,
      seconds: secs(ms),
      intentsPerSecond: Math.round(size / (ms / 1000)),
      baselineSeconds: secs(baseMs),
      ratioToBaseline: Number((baseMs / ms).toFixed(2)),
      peakHeapGrowthMiB: Number(((peak - heapBefore) / 2 ** 20).toFixed(1)),
    });
  }
  await runner.stop();
}

async function main(): Promise<void> {
  const users = Number(process.argv[2] ?? 50_000);
  const intents = Number(process.argv[3] ?? 20_000);
  const broker = await startDisposableBroker(19392);
  const kafka = benchKafka(broker.brokers);
  const admin = kafka.admin();
  await admin.connect();
  const producer = new EventProducer(kafka);
  await producer.connect();
  try {
    const t = performance.now();
    await freshTopics(admin, 12);
    log({ step: 'fresh topics', seconds: secs(performance.now() - t) });
    await benchDecide(kafka, admin, producer, users, intents);
    await benchFanout(kafka, admin, producer);
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
  // The broker stays up for the next run (stop: KAFKA_PORT=19392 KAFKA_CONTROLLER_PORT=19393
  // PUSH_LOCAL_DIR=.local/disposable-19392 bash deploy/local/infra.sh kafka-stop).
  process.exit(0);
}

main().catch((e: Error) => {
  console.error(e);
  process.exit(1);
});
