/* eslint-disable @typescript-eslint/no-explicit-any -- records are inspected as plain JSON */
import type { INestApplication } from '@nestjs/common';
import {
  DEFAULT_PUSH_SETTINGS,
  TOPICS,
  type ApnsRequest,
  type PushOutcome,
  type TaskProgress,
  type TokenUserDevices,
} from '@app/contracts';
import { EventProducer, outbound } from '@app/kafka';
import {
  apnsDevice,
  apnsToken,
  startDisposableBroker,
  startService,
  TopicRecorder,
  uniqueId,
  waitFor,
  writeAppsFile,
  type DisposableBroker,
} from '@app/testing';
import { Kafka, logLevel } from 'kafkajs';
import request from 'supertest';
import { DecideConsumer } from '@apps/routing/decide/decide.consumer';
import { SERVICES } from '../services';

/** Each app its own API key (a key grants one app). */
const auth = (appId: string) => ({ authorization: `Bearer key-${appId}` });
const APPS = ['listed', 'tagged', 'stopped', 'revoked', 'paced', 'killed', 'later'];

/**
 * Push tasks through routing, with two instances in the same consumer groups (each holds some of
 * the 12 partitions), on a broker of its own (port 20192): POST .../pushes → push.task.v1 (one
 * record per partition) → each instance walks its partitions' users → requests on
 * push.apns.request.v1 (read committed), checkpoints on routing.task-progress.v1.
 */
describe('push tasks, two routing instances', () => {
  let broker: DisposableBroker;
  let kafka: Kafka;
  let producer: EventProducer;
  let a: INestApplication;
  let b: INestApplication;
  let rec: TopicRecorder;
  let env: Record<string, string | undefined>;
  let aClosed = false;

  beforeAll(async () => {
    broker = await startDisposableBroker(20192);
    kafka = new Kafka({
      clientId: 'tasks-it',
      brokers: broker.brokers,
      logLevel: logLevel.NOTHING,
    });
    producer = new EventProducer(kafka);
    await producer.connect();
    const appsFile = writeAppsFile(APPS.map((id) => ({ id, apiKey: `key-${id}` })));
    rec = await TopicRecorder.start(kafka, [
      TOPICS.apnsRequest.name,
      TOPICS.pushOutcome.name,
      TOPICS.routingTaskProgress.name,
      TOPICS.deadLetter.name,
    ]);
    env = {
      ...process.env,
      KAFKA_BROKERS: broker.brokers.join(','),
      PUSH_APPS_FILE: appsFile,
      LOG_LEVEL: 'error',
      ROUTING_FANOUT_GROUP: uniqueId('tasks-fanout'),
      ROUTING_DECIDE_GROUP: uniqueId('tasks-decide'),
    };
    a = await startService({ ...SERVICES.routing, env });
    // One after the other: two members joining a new copartitioned group at the same moment were
    // refused by the broker (INCONSISTENT_GROUP_PROTOCOL) in this setup.
    await waitFor(() => ready(a), { what: 'the first routing instance ready', timeoutMs: 120_000 });
    b = await startService({ ...SERVICES.routing, env });
    await waitFor(async () => (await ready(a)) && (await ready(b)), {
      what: 'both routing instances ready',
      timeoutMs: 120_000,
    });
  }, 240_000);

  afterAll(async () => {
    if (!aClosed) await a?.close();
    await b?.close();
    await rec?.stop();
    await producer?.disconnect();
    await broker?.destroy();
  }, 60_000);

  const ready = async (app: INestApplication) =>
    (await request(app.getHttpServer()).get('/health/ready')).status === 200;
  const known = (appId: string, userId: string) =>
    [a, b].some((app) => app.get(DecideConsumer).state.tokens.has(`${appId}:${userId}`));

  /** `n` users of `appId` with an iPhone each (`tags(i)` their tags); waits until decide holds them. */
  async function users(appId: string, n: number, tags: (i: number) => string[] = () => []) {
    const ids = Array.from({ length: n }, (_, i) => `u${String(i).padStart(3, '0')}`);
    const values: TokenUserDevices[] = ids.map((userId, i) => ({
      appId,
      userId,
      version: 1,
      updatedAt: new Date().toISOString(),
      devices: [apnsDevice('iphone', apnsToken())],
      settings: { ...DEFAULT_PUSH_SETTINGS },
      tags: tags(i),
    }));
    await producer.send(values.map((v) => outbound(TOPICS.tokenUserDevices, v)));
    await waitFor(() => ids.every((id) => known(appId, id)), {
      what: `${appId}'s users known to decide`,
      timeoutMs: 30_000,
    });
    return ids;
  }

  const push = (app: INestApplication, appId: string, body: Record<string, unknown>) =>
    request(app.getHttpServer()).post(`/v1/apps/${appId}/pushes`).set(auth(appId)).send(body);
  const content = { offlinePush: { title: 'News', desc: 'Something happened' } };
  const requestsOf = (taskId: string) =>
    rec.values<ApnsRequest>(TOPICS.apnsRequest.name, (r) => r.messageId === `task:${taskId}`);
  const progressOf = (taskId: string) =>
    rec.values<TaskProgress>(TOPICS.routingTaskProgress.name, (p) => p.taskId === taskId);
  /** Per partition, the newest checkpoint of the task. */
  const latest = (taskId: string) => {
    const by = new Map<number, TaskProgress>();
    for (const p of progressOf(taskId)) {
      if ((by.get(p.partition)?.seq ?? -1) < p.seq) by.set(p.partition, p);
    }
    return [...by.values()];
  };
  /**
   * Every partition's walk done, and the recorder has the requests of every user decided: the
   * checkpoints and the requests are written in one transaction but read from two topics, so a
   * partition's last checkpoint may be seen before its requests (every user here has one device).
   */
  const allDone = (taskId: string, partitions: number) => () =>
    latest(taskId).length === partitions &&
    latest(taskId).every((p) => p.state === 'done') &&
    requestsOf(taskId).length >= latest(taskId).reduce((n, p) => n + p.decided, 0);
  const countBy = (rs: { userId: string }[]) => {
    const m = new Map<string, number>();
    for (const r of rs) m.set(r.userId, (m.get(r.userId) ?? 0) + 1);
    return m;
  };

  it('refuses a bad body with problem+json naming the field', async () => {
    const bad = await push(a, 'listed', {
      offlinePush: { desc: '' },
      audience: { userIds: [], all: true },
      options: { rate: 0, badge: 'sometimes' },
      extra: 1,
    });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    const fields = (bad.body.errors as { field: string }[]).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['options.rate', 'options.badge']));
    const unknown = await push(a, 'listed', { ...content, audience: { all: true }, extra: 1 });
    expect(unknown.status).toBe(400);
    const wrongKey = await request(a.getHttpServer())
      .post('/v1/apps/listed/pushes')
      .set({ authorization: 'Bearer nope' })
      .send({ ...content, audience: { all: true } });
    expect(wrongKey.status).toBe(401);
    const badId = await request(a.getHttpServer())
      .delete('/v1/apps/listed/pushes/not-a-uuid')
      .set(auth('listed'));
    expect(badId.status).toBe(400);
  });

  it('listed users get exactly one push each; a listed user without devices an outcome', async () => {
    const ids = await users('listed', 40);
    const listed = [...ids.slice(0, 30), 'ghost', ids[0]];
    const res = await push(a, 'listed', {
      ...content,
      audience: { userIds: listed },
      options: { rate: 5000 },
    });
    expect(res.status).toBe(202);
    const { taskId } = res.body as { taskId: string };
    expect(res.headers.location).toBe(`/v1/apps/listed/pushes/${taskId}`);
    await waitFor(
      () =>
        requestsOf(taskId).length >= 30 &&
        latest(taskId).every((p) => p.state === 'done') &&
        latest(taskId).length > 0,
      {
        what: 'the listed users pushed',
        timeoutMs: 30_000,
      },
    );
    await new Promise((r) => setTimeout(r, 1500)); // extras would show up meanwhile
    const per = countBy(requestsOf(taskId));
    expect([...per.keys()].sort()).toEqual(ids.slice(0, 30));
    expect([...per.values()].every((n) => n === 1)).toBe(true);
    const ghost = rec.values<PushOutcome>(
      TOPICS.pushOutcome.name,
      (o) => o.messageId === `task:${taskId}` && o.userId === 'ghost',
    );
    expect(ghost.map((o) => o.code)).toEqual(['no_device']);
    const sum = latest(taskId).reduce((n, p) => n + p.decided, 0);
    expect(sum).toBe(31);
  }, 60_000);

  it('a tag push reaches exactly the tagged users across both instances', async () => {
    const ids = await users('tagged', 60, (i) =>
      i % 3 === 0 ? ['beta', 'vip'] : i % 3 === 1 ? ['vip'] : [],
    );
    const res = await push(b, 'tagged', {
      ...content,
      audience: { tags: { and: ['vip', 'beta'] } },
      options: { rate: 5000 },
    });
    const { taskId } = res.body as { taskId: string };
    await waitFor(allDone(taskId, 12), { what: 'every partition done', timeoutMs: 30_000 });
    const per = countBy(requestsOf(taskId));
    expect([...per.keys()].sort()).toEqual(ids.filter((_, i) => i % 3 === 0));
    expect([...per.values()].every((n) => n === 1)).toBe(true);
    // Both instances walked partitions of their own.
    const owners = new Set(
      [a, b].filter((app) =>
        [...app.get(DecideConsumer).tasks.progress.values()].some((p) => p.taskId === taskId),
      ),
    );
    expect(owners.size).toBe(2);
  }, 60_000);

  it('holds the rate within a tolerance', async () => {
    await users('paced', 60);
    const res = await push(a, 'paced', {
      ...content,
      audience: { all: true },
      options: { rate: 24 },
    });
    const { taskId } = res.body as { taskId: string };
    await waitFor(allDone(taskId, 12), { what: 'every partition done', timeoutMs: 30_000 });
    const times = requestsOf(taskId)
      .map((r) => Date.parse(r.createdAt))
      .sort((x, y) => x - y);
    expect(times).toHaveLength(60);
    const seconds = (times[times.length - 1] - times[0]) / 1000;
    // 60 users at 24/s: ≥ 2 s (the first slice of each partition goes at once: 2 users each, so
    // the bound is what the limiter must hold, not a speed), and not more than 3× slower.
    expect(seconds).toBeGreaterThanOrEqual(1.2);
    expect(seconds).toBeLessThan(9);
    // No second holds much more than the rate (2 users per partition per second).
    const perSecond = new Map<number, number>();
    for (const t of times) {
      const s = Math.floor((t - times[0]) / 1000);
      perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
    }
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(24 * 1.5);
  }, 60_000);

  it('stop halts the rest of a running task', async () => {
    await users('stopped', 120);
    const res = await push(a, 'stopped', {
      ...content,
      audience: { all: true },
      options: { rate: 12 },
    });
    const { taskId } = res.body as { taskId: string };
    await waitFor(() => requestsOf(taskId).length >= 12, {
      what: 'a first slice',
      timeoutMs: 20_000,
    });
    const del = await request(a.getHttpServer())
      .delete(`/v1/apps/stopped/pushes/${taskId}`)
      .set(auth('stopped'));
    expect(del.status).toBe(202);
    await waitFor(
      () => latest(taskId).length === 12 && latest(taskId).every((p) => p.state === 'stopped'),
      { what: 'every partition stopped', timeoutMs: 20_000 },
    );
    const atStop = requestsOf(taskId).length;
    await new Promise((r) => setTimeout(r, 3000));
    expect(requestsOf(taskId).length).toBe(atStop);
    expect(atStop).toBeLessThan(60);
    expect([...countBy(requestsOf(taskId)).values()].every((n) => n === 1)).toBe(true);
  }, 60_000);

  it('revoke replaces what a task sent (same collapse id), once', async () => {
    await users('revoked', 20);
    const res = await push(a, 'revoked', {
      ...content,
      audience: { all: true },
      options: { rate: 5000 },
    });
    const { taskId } = res.body as { taskId: string };
    await waitFor(allDone(taskId, 12), { what: 'every partition done', timeoutMs: 30_000 });
    const sent = requestsOf(taskId).filter(
      (r) => r.pushType === 'alert' && (r.payload as any).type !== 'recall',
    );
    expect(sent).toHaveLength(20);
    const del = await request(b.getHttpServer())
      .delete(`/v1/apps/revoked/pushes/${taskId}?revoke=true`)
      .set(auth('revoked'));
    expect(del.status).toBe(202);
    await waitFor(
      () => latest(taskId).every((p) => p.revoke?.done === true) && latest(taskId).length === 12,
      { what: 'every partition revoked', timeoutMs: 30_000 },
    );
    const replacements = requestsOf(taskId).filter((r) => (r.payload as any).type === 'recall');
    expect(replacements).toHaveLength(20);
    for (const r of replacements) {
      const original = sent.find((s) => s.userId === r.userId)!;
      expect(r.collapseId).toBe(original.collapseId);
    }
    // The task stays done; nothing more is sent.
    expect(latest(taskId).every((p) => p.state === 'done')).toBe(true);
  }, 60_000);

  it('a scheduled task waits for sendAt', async () => {
    await users('later', 10);
    const sendAt = new Date(Date.now() + 4000).toISOString();
    const res = await push(a, 'later', {
      ...content,
      audience: { all: true },
      options: { rate: 5000, sendAt },
    });
    const { taskId } = res.body as { taskId: string };
    await waitFor(() => latest(taskId).length === 12, {
      what: 'scheduled everywhere',
      timeoutMs: 20_000,
    });
    expect(latest(taskId).every((p) => p.state === 'scheduled')).toBe(true);
    expect(requestsOf(taskId)).toHaveLength(0);
    await waitFor(allDone(taskId, 12), { what: 'every partition done', timeoutMs: 30_000 });
    const first = Math.min(...requestsOf(taskId).map((r) => Date.parse(r.createdAt)));
    expect(first).toBeGreaterThanOrEqual(Date.parse(sendAt));
    expect(requestsOf(taskId)).toHaveLength(10);
  }, 60_000);

  it('an instance closed mid-broadcast: the other resumes from the checkpoints, no duplicates, no gaps', async () => {
    const ids = await users('killed', 120);
    const res = await push(a, 'killed', {
      ...content,
      audience: { all: true },
      options: { rate: 24 },
    });
    const { taskId } = res.body as { taskId: string };
    await waitFor(() => requestsOf(taskId).length >= 30, {
      what: 'a part sent',
      timeoutMs: 20_000,
    });
    await a.close();
    aClosed = true;
    await waitFor(allDone(taskId, 12), { what: 'every partition done', timeoutMs: 90_000 });
    await new Promise((r) => setTimeout(r, 1500));
    const per = countBy(requestsOf(taskId));
    expect([...per.keys()].sort()).toEqual(ids);
    expect([...per.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    expect(rec.values(TOPICS.deadLetter.name)).toEqual([]);
  }, 120_000);
});
