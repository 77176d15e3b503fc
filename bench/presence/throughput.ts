/**
 * Presence throughput: device events per second one instance absorbs (state machine + consumer
 * runner + Kafka, snapshots published), and snapshots written per 1,000 heartbeats once steady.
 * Baseline in the same run: a bare kafkajs consumer reading the same events without processing.
 *
 *   npx tsx bench/presence/throughput.ts            (BENCH_DEVICES=30000 BENCH_ROUNDS=5 by default)
 *
 * Target: 1,000,000 devices on a 2-minute heartbeat, about 8,300 events/s. Loopback broker only;
 * the topics are the run's own and are deleted at the end.
 */
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { buildServiceConfig } from '@app/config';
import {
  TOPICS,
  defineTopic,
  type PresenceDeviceEvent,
  type PresenceUserState,
} from '@app/contracts';
import { ConsumerRunner, EventProducer, runnerFor } from '@app/kafka';
import { testKafka, uniqueId } from '@app/testing';
import type { Admin, Kafka } from 'kafkajs';
import { resolve } from 'node:path';
import { PresenceEnvSchema } from '@apps/presence/presence-env.schema';
import { PresenceConsumer, PRESENCE_GROUP } from '@apps/presence/presence/presence.consumer';
import { PresenceService } from '@apps/presence/presence/presence.service';
import type { PresenceTopics } from '@apps/presence/presence/presence.topics';
import { toEventInput } from '@apps/presence/state/device-presence.machine';
import { PresenceStore } from '@apps/presence/state/presence.store';
import { applyEvents, emptyUser } from '@apps/presence/state/user-presence.machine';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 30000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PARTITIONS = 12;
const HARD_LIMIT_MS = 85_000;
const APP = 'demo';

const started = Date.now();
const left = () => HARD_LIMIT_MS - (Date.now() - started);
const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);

async function createTopics(admin: Admin): Promise<PresenceTopics> {
  const run = uniqueId('bench');
  const names = { events: `bench.${run}.presence-events`, state: `bench.${run}.presence-state` };
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: names.events, numPartitions: PARTITIONS },
      {
        topic: names.state,
        numPartitions: PARTITIONS,
        configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
      },
    ],
  });
  return {
    deviceEvent: defineTopic({ ...TOPICS.presenceDeviceEvent, name: names.events }),
    userState: defineTopic({ ...TOPICS.presenceUserState, name: names.state }),
  };
}

/**
 * One `connected` per device, then ROUNDS heartbeat rounds. Times are recent and 20 s apart, so
 * every device stays online while the run lasts (a steady state, as with a 2-minute heartbeat).
 */
function buildEvents(): PresenceDeviceEvent[][] {
  const base = Date.now() - (ROUNDS + 1) * 20_000;
  return Array.from({ length: ROUNDS + 1 }, (_, round) =>
    Array.from({ length: DEVICES }, (_, i) => ({
      appId: APP,
      userId: `bench-user-${i}`,
      deviceId: `device-${i}`,
      platform: i % 2 ? ('ios' as const) : ('android' as const),
      type: round === 0 ? ('connected' as const) : ('heartbeat' as const),
      at: new Date(base + round * 20_000 + (i % 1000)).toISOString(),
    })),
  );
}

/** Raw batches (the events are valid by construction): the bench measures the consumer side. */
async function produce(
  producer: EventProducer,
  topics: PresenceTopics,
  rounds: PresenceDeviceEvent[][],
) {
  const t = Date.now();
  const headers = {
    'content-type': 'application/json',
    'event-type': topics.deviceEvent.eventType,
  };
  for (const round of rounds) {
    for (let i = 0; i < round.length; i += 10000) {
      const messages = round.slice(i, i + 10000).map((e) => ({
        key: `${e.appId}:${e.userId}`,
        value: JSON.stringify(e),
        headers,
      }));
      await producer.producer.sendBatch({
        topicMessages: [{ topic: topics.deviceEvent.name, messages }],
        acks: -1,
      });
    }
  }
  const n = rounds.length * DEVICES;
  console.log(`produced ${n} events in ${Date.now() - t} ms (${rate(n, Date.now() - t)}/s)`);
}

/** Baseline: a bare kafkajs consumer reading every event, no decoding, no state, no commits. */
async function bareConsumer(kafka: Kafka, topic: string, total: number): Promise<number> {
  const consumer = kafka.consumer({ groupId: uniqueId('bench-bare'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let first = 0;
  let last = 0;
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      if (!first) first = Date.now();
      seen += batch.messages.length;
      last = Date.now();
    },
  });
  await until(() => seen >= total, 'bare consumer');
  await consumer.disconnect();
  return last - first;
}

/**
 * Second baseline: the same consumer runner (decode, validation, commits) with a handler that
 * does nothing, so that what presence itself costs shows apart from what the library costs.
 */
async function noopRunner(
  kafka: Kafka,
  producer: EventProducer,
  topics: PresenceTopics,
  total: number,
) {
  let seen = 0;
  let first = 0;
  let last = 0;
  const runner = new ConsumerRunner(kafka, producer, {
    groupId: uniqueId('bench-noop'),
    subscriptions: [
      {
        topic: topics.deviceEvent,
        handle: async (records) => {
          if (!first) first = Date.now();
          seen += records.length;
          last = Date.now();
        },
      },
    ],
  });
  await runner.start();
  await until(() => seen >= total, 'no-op runner');
  await runner.stop();
  return last - first;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  while (!cond()) {
    if (left() <= 0) throw new Error(`bench time limit reached while waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The pure state machine alone, in memory: the ceiling the Kafka path can approach. */
function machineOnly(rounds: PresenceDeviceEvent[][]): number {
  const svcRules = {
    heartbeatTimeoutMs: 400_000,
    offlineAfterMs: 7 * 86_400_000,
    persistLastSeenMs: 21_600_000,
    forgetAfterMs: 0,
  };
  const users = new Map<string, ReturnType<typeof emptyUser>>();
  const t = process.hrtime.bigint();
  for (const round of rounds) {
    for (const e of round) {
      const u = users.get(e.userId) ?? emptyUser(e.appId, e.userId);
      users.set(e.userId, applyEvents(u, [toEventInput(e)], Date.now(), svcRules).user!);
    }
  }
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/** Presence as deployed: the runner, the service, snapshots to the state topic, the sweep on. */
async function presence(
  kafka: Kafka,
  producer: EventProducer,
  topics: PresenceTopics,
  total: number,
) {
  const config = buildServiceConfig({ name: 'presence', defaultPort: 0 }, PresenceEnvSchema, {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    PUSH_APPS_FILE: resolve(__dirname, '../../deploy/local/apps.yaml'),
  });
  const service = new PresenceService(new PresenceStore(), producer, config.apps, config, topics);
  let applied = 0;
  let first = 0;
  let last = 0;
  let snapshotsAfterWarmup = 0;
  const onEvents = service.onDeviceEvents.bind(service);
  service.onDeviceEvents = async (records, partition) => {
    if (!first) first = Date.now();
    const r = await onEvents(records, partition);
    applied += records.length;
    last = Date.now();
    return r;
  };
  const runner = runnerFor(
    kafka,
    producer,
    {
      group: PRESENCE_GROUP,
      groupId: uniqueId('bench-presence'),
      copartitioned: true,
      topics: {
        [TOPICS.presenceDeviceEvent.name]: topics.deviceEvent,
        [TOPICS.presenceUserState.name]: topics.userState,
      },
    },
    [new PresenceConsumer(service)],
  );
  const sweep = setInterval(() => {
    if (runner.isRestored()) void service.sweepAll().then((n) => (snapshotsAfterWarmup += n));
  }, 5000);
  await runner.start();
  await until(() => applied >= total, 'presence');
  clearInterval(sweep);
  await runner.stop();
  return { ms: last - first, sweepSnapshots: snapshotsAfterWarmup };
}

/** Snapshot records by version: version 1 is each user's first, later ones are changes. */
async function countSnapshots(
  kafka: Kafka,
  topic: string,
): Promise<{ first: number; later: number }> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
  const consumer = kafka.consumer({ groupId: uniqueId('bench-count'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  const counts = { first: 0, later: 0 };
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen++;
      const v = JSON.parse(message.value!.toString()) as PresenceUserState;
      if (v.version === 1) counts.first++;
      else counts.later++;
    },
  });
  await until(() => seen >= total, 'snapshot count');
  await consumer.disconnect();
  return counts;
}

async function main(): Promise<void> {
  Logger.overrideLogger(['error']);
  const kafka = testKafka('bench-presence');
  const admin = kafka.admin();
  await admin.connect();
  const producer = new EventProducer(kafka);
  await producer.connect();
  const topics = await createTopics(admin);
  const timer = setTimeout(() => {
    console.error('bench exceeded its time limit');
    process.exit(2);
  }, HARD_LIMIT_MS + 5000);
  timer.unref();
  try {
    const rounds = buildEvents();
    const total = rounds.length * DEVICES;
    const heartbeats = ROUNDS * DEVICES;
    console.log(
      `presence bench: ${DEVICES} devices, 1 connect + ${ROUNDS} heartbeat rounds = ${total} events, ${PARTITIONS} partitions`,
    );
    const machineMs = machineOnly(rounds);
    await produce(producer, topics, rounds);

    const bareMs = await bareConsumer(kafka, topics.deviceEvent.name, total);
    const noopMs = await noopRunner(kafka, producer, topics, total);
    const p = await presence(kafka, producer, topics, total);
    const snaps = await countSnapshots(kafka, topics.userState.name);

    const bareRate = rate(total, bareMs);
    const presenceRate = rate(total, p.ms);
    console.log('');
    console.log(`state machine alone (in memory)    ${rate(total, machineMs)} events/s`);
    console.log(`baseline: bare kafkajs consumer    ${bareRate} events/s (${bareMs} ms)`);
    console.log(
      `baseline: runner, no-op handler    ${rate(total, noopMs)} events/s (${noopMs} ms)`,
    );
    console.log(`presence: runner + machine + Kafka ${presenceRate} events/s (${p.ms} ms)`);
    console.log(`ratio presence / bare consumer     ${(presenceRate / bareRate).toFixed(3)}`);
    console.log(
      `ratio presence / no-op runner      ${(presenceRate / rate(total, noopMs)).toFixed(3)}`,
    );
    console.log(
      `target 8,300 events/s              ${presenceRate >= 8300 ? 'met' : 'NOT met'} (x${(presenceRate / 8300).toFixed(2)})`,
    );
    console.log(
      `snapshots: ${snaps.first} first versions (one per new user), ${snaps.later} later ones`,
    );
    console.log(
      `snapshots per 1,000 heartbeats     ${((snaps.later / heartbeats) * 1000).toFixed(3)} (sweep wrote ${p.sweepSnapshots})`,
    );
  } finally {
    await admin
      .deleteTopics({ topics: [topics.deviceEvent.name, topics.userState.name] })
      .catch(() => undefined);
    await producer.disconnect();
    await admin.disconnect();
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(e);
    process.exit(1);
  },
);
