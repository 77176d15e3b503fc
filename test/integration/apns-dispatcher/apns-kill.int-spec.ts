import { TOPICS } from '@app/contracts';
import {
  apnsRequest,
  apnsToken,
  TopicRecorder,
  waitFor,
  type DisposableBroker,
  type FakeApns,
} from '@app/testing';
import type { Kafka } from 'kafkajs';
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { ApnsWorld, Collector, dispatcherEnv, produce, startBroker } from './apns-harness';

const ROOT = resolve(__dirname, '../../..');

/** The dispatcher as a real process of its own (one node process, so SIGKILL hits exactly it). */
function runDispatcher(env: Record<string, string>): ChildProcess {
  const child = spawn(
    process.execPath,
    ['-r', './libs/testing/src/swc-register.js', 'apps/apns-dispatcher/src/main.ts'],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH, TS_NODE_PROJECT: 'tsconfig.json', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  child.stderr?.on('data', (d: Buffer) => {
    if (process.env.APNS_TEST_VERBOSE) process.stderr.write(d);
  });
  return child;
}

/** Where each job sits in the request topic, read back from the broker. */
async function positions(
  kafka: Kafka,
  jobIds: Set<string>,
): Promise<Map<string, { partition: number; offset: bigint }>> {
  const found = new Map<string, { partition: number; offset: bigint }>();
  const jobOf = (value: unknown) => (value as { jobId: string }).jobId;
  // From the beginning, where the benchmark left millions of requests: only this test's are kept.
  const requests = await TopicRecorder.start(kafka, TOPICS.apnsRequest.name, {
    from: 'beginning',
    filter: ({ value }) => jobIds.has(jobOf(value)),
    onRecord: ({ partition, offset, value }) =>
      found.set(jobOf(value), { partition, offset: BigInt(offset) }),
  });
  await waitFor(() => found.size === jobIds.size, {
    what: 'all requests read back',
    timeoutMs: 30000,
  });
  await requests.stop();
  return found;
}

describe('APNs dispatcher killed mid-batch', () => {
  let broker: DisposableBroker;
  let kafka: Kafka;
  let world: ApnsWorld;
  let fake: FakeApns;
  let out: Collector;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    ({ broker, kafka } = await startBroker());
    world = new ApnsWorld();
    fake = await world.fake();
    out = await new Collector(kafka).start();
  }, 120000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await out?.stop();
    await fake?.stop();
    world?.dispose();
    await broker?.destroy();
  });

  it('loses nothing: every job gets an outcome; what was committed before the kill is never resent', async () => {
    const appId = 'apnskill';
    // Slow answers keep a batch in flight when the kill comes.
    const env = dispatcherEnv(broker.brokers, world.writeAppsFile(fake.port, [{ id: appId }]), {
      HTTP_PORT: String(20000 + Math.floor(Math.random() * 20000)),
      HTTP_HOST: '127.0.0.1',
      APNS_CONNECTIONS_PER_POOL: '2',
      APNS_MAX_IN_FLIGHT_PER_CONNECTION: '50',
      APNS_SESSION_TIMEOUT_MS: '6000', // the killed member leaves the group sooner
    });
    const jobs = Array.from({ length: 3000 }, () => apnsRequest(appId, apnsToken()));
    for (const j of jobs) fake.rule(j.token, { kind: 'slow', delayMs: 15 });
    const ids = new Set(jobs.map((j) => j.jobId));
    await produce(kafka, jobs);
    const where = await positions(kafka, ids);

    const t0 = Date.now();
    const phase = (what: string) =>
      process.stderr.write(`[apns-kill] ${what} at +${Date.now() - t0} ms\n`);
    const first = runDispatcher(env);
    children.push(first);
    await waitFor(() => fake.received.length >= 600, {
      what: 'a third of the sends',
      timeoutMs: 120000,
      intervalMs: 5,
    });
    phase(`killing after ${fake.received.length} sends`);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const receivedAtKill = new Map<string, number>();
    for (const r of fake.received) {
      receivedAtKill.set(r.token, (receivedAtKill.get(r.token) ?? 0) + 1);
    }
    expect(receivedAtKill.size).toBeLessThan(jobs.length); // it really died mid-way

    const admin = kafka.admin();
    await admin.connect();
    const [committed] = await admin.fetchOffsets({
      groupId: env.APNS_GROUP_ID,
      topics: [TOPICS.apnsRequest.name],
    });
    await admin.disconnect();
    const committedAt = new Map(committed.partitions.map((p) => [p.partition, BigInt(p.offset)]));

    phase('restarting');
    const second = runDispatcher(env);
    const probe = kafka.admin();
    await probe.connect();
    const outcomeEnd = async () =>
      (await probe.fetchTopicOffsets(TOPICS.pushOutcome.name)).reduce(
        (a, p) => a + Number(p.high),
        0,
      );
    const progress = setInterval(() => {
      const withOutcome = jobs.filter((j) => out.outcomesOf(j.jobId).length > 0).length;
      void outcomeEnd()
        .then((n) =>
          phase(
            `${fake.received.length} sends, outcome topic end ${n}, ${withOutcome} jobs with outcomes`,
          ),
        )
        .catch(() => undefined);
    }, 10000);
    children.push(second);
    await waitFor(() => jobs.every((j) => out.outcomesOf(j.jobId).length > 0), {
      what: 'an outcome for every job',
      timeoutMs: 90000,
      intervalMs: 250,
    });
    clearInterval(progress);
    await probe.disconnect();
    phase('all outcomes');
    second.kill('SIGTERM');
    await new Promise((r) => second.once('exit', r));

    const sends = new Map<string, number>();
    for (const r of fake.received) sends.set(r.token, (sends.get(r.token) ?? 0) + 1);
    let acknowledged = 0;
    let resent = 0;
    for (const j of jobs) {
      expect(out.outcomesOf(j.jobId).every((o) => o.status === 'delivered')).toBe(true);
      const n = sends.get(j.token) ?? 0;
      expect(n).toBeGreaterThanOrEqual(1);
      const pos = where.get(j.jobId)!;
      if (pos.offset < (committedAt.get(pos.partition) ?? -1n)) {
        acknowledged++;
        expect(n).toBe(1); // committed before the kill: never sent again
      } else {
        expect(n).toBeLessThanOrEqual(2);
        if (n === 2) resent++;
      }
    }
    expect(acknowledged).toBeGreaterThan(0);
    // Only what was in flight (sent, not yet committed) at the kill may have been sent twice.
    expect(resent).toBeLessThanOrEqual(receivedAtKill.size);
  }, 240000);
});
