/* eslint-disable @typescript-eslint/no-explicit-any -- records are inspected as plain JSON */
import { TOPICS, type PushTask, type TaskControl } from '@app/contracts';
import { AppsRegistry } from '@app/config';
import { encodeOutbound, type OutboundRecord } from '@app/kafka';
import {
  iphone,
  pixel,
  presence,
  tokens,
} from '../../../../libs/routing-rules/test-fixtures/routing.fixtures';
import { DecideState } from './decide.state';
import {
  decideControls,
  decideTasks,
  progressKey,
  TaskBook,
  type TaskDecideOptions,
} from './task.decider';

const apps = new AppsRegistry({
  apps: [
    {
      id: 'demo',
      apiKeys: [`sha256:${'0'.repeat(64)}`],
      policy: { suppressWhenOnlineElsewhere: false, offlineAfterDays: 7 },
    },
  ],
});
const T0 = Date.parse('2026-11-26T05:00:00.000Z');
const TASK = '6f1c1b1e-3c2a-4d5e-9f00-0123456789ab';
const opts = (at = T0, over: Partial<TaskDecideOptions> = {}): TaskDecideOptions => ({
  now: new Date(at),
  partition: 3,
  dedupeWindow: 16,
  app: (id) => apps.get(id),
  memory: { count: 16, seconds: 86400 },
  ...over,
});
const task = (over: Partial<PushTask> = {}) => ({
  offset: '10',
  value: {
    appId: 'demo',
    taskId: TASK,
    createdAt: new Date(T0).toISOString(),
    partition: 3,
    partitions: 1,
    records: 1,
    offlinePush: { title: 'Sale', desc: 'Everything half price' },
    audience: { all: true as const },
    options: { badge: 'none' as const, includeOnline: false, rate: 2 },
    from: null,
    ttlSeconds: 3600,
    ...over,
  } as PushTask,
});
const control = (revoke: boolean) => ({
  offset: '4',
  value: {
    appId: 'demo',
    taskId: TASK,
    action: 'stop',
    revoke,
    partition: 3,
    partitions: 1,
    at: new Date(T0).toISOString(),
  } as TaskControl,
});
const of = (rs: OutboundRecord[], topic: { name: string }) =>
  rs.filter((r) => r.topic.name === topic.name).map((r) => r.value as Record<string, any>);

/** Five users in partition 3: u1–u5, one iPhone each (u5 also tagged vip); u2 is online. */
function fiveUsers(): DecideState {
  const state = new DecideState();
  for (const n of [1, 2, 3, 4, 5]) {
    const t = tokens([iphone({ deviceId: `ip-${n}` })], {}, `u${n}`);
    state.applyTokens(`demo:u${n}`, { ...t, tags: n >= 4 ? ['vip'] : [] }, 3);
  }
  state.applyPresence('demo:u2', presence([{ deviceId: 'ip-2', status: 'online' }], 'u2'));
  return state;
}

/** One turn, committed as the consumer does. */
function turn(state: DecideState, book: TaskBook, t = task(), at = T0, over = {}) {
  const r = decideTasks([t], state, book, opts(at, over));
  for (const rec of r.records) encodeOutbound(rec); // every output fits its topic's schema
  state.commitBadges(r.badges);
  book.commit(r.progress, r.nextAt);
  return r;
}

describe('push tasks in decide', () => {
  it('walks the partition in key order, a slice per turn at the rate, with a checkpoint each', () => {
    const state = fiveUsers();
    const book = new TaskBook();
    const first = turn(state, book);
    expect(of(first.records, TOPICS.apnsRequest).map((r) => r.userId)).toEqual(['u1']);
    expect(of(first.records, TOPICS.pushOutcome).map((o) => [o.userId, o.code])).toEqual([
      ['u2', 'online'],
    ]);
    expect(of(first.records, TOPICS.routingTaskProgress)).toEqual([
      expect.objectContaining({ state: 'running', cursor: 'demo:u2', targeted: 2, decided: 2 }),
    ]);
    // rate 2/s over one partition: the next slice is due a second later, from the same record.
    expect(first.deferFrom).toEqual({ offset: '10', until: T0 + 1000 });
    const early = turn(state, book, task(), T0 + 500);
    expect(early.records).toEqual([]);
    expect(early.deferFrom).toEqual({ offset: '10', until: T0 + 1000 });
    turn(state, book, task(), T0 + 1000);
    const last = turn(state, book, task(), T0 + 2000);
    expect(of(last.records, TOPICS.apnsRequest).map((r) => r.userId)).toEqual(['u5']);
    expect(of(last.records, TOPICS.routingTaskProgress)[0]).toMatchObject({
      state: 'done',
      targeted: 5,
      decided: 5,
    });
    expect(last.deferFrom).toBeUndefined();
    // Done: read again (an earlier task still running), it writes nothing.
    expect(turn(state, book, task(), T0 + 9000).records).toEqual([]);
  });

  it('renders like a c2c message from "system" without a badge (badge none) and remembers it', () => {
    const state = fiveUsers();
    const book = new TaskBook();
    const r = turn(
      state,
      book,
      task({ options: { badge: 'none', includeOnline: false, rate: 100 } }),
    );
    const req = of(r.records, TOPICS.apnsRequest)[0];
    expect(req.messageId).toBe(`task:${TASK}`);
    expect(req.payload.aps.alert).toEqual({ title: 'Sale', body: 'Everything half price' });
    expect(req.payload.aps.badge).toBeUndefined();
    expect(req.payload.aps['thread-id']).toBe('c2c:system');
    expect(state.badges.get('demo:u1')?.pushes[0].v).toEqual({ 'ip-1': 0 });
    expect(state.badges.get('demo:u1')?.devices.size).toBe(0);
  });

  it('badge increment counts like a message; includeOnline reaches the online device', () => {
    const state = fiveUsers();
    const r = turn(
      state,
      new TaskBook(),
      task({ options: { badge: 'increment', includeOnline: true, rate: 100 } }),
    );
    const reqs = of(r.records, TOPICS.apnsRequest);
    expect(reqs.map((q) => q.userId)).toEqual(['u1', 'u2', 'u3', 'u4', 'u5']);
    expect(reqs.map((q) => q.payload.aps.badge)).toEqual([1, 1, 1, 1, 1]);
  });

  it('a tag audience reaches the tagged users only; a listed one its users (no device: an outcome)', () => {
    const tagged = turn(
      fiveUsers(),
      new TaskBook(),
      task({
        audience: { tags: { or: ['vip'] } },
        options: { badge: 'none', includeOnline: false, rate: 100 },
      }),
    );
    expect(of(tagged.records, TOPICS.apnsRequest).map((q) => q.userId)).toEqual(['u4', 'u5']);
    const listed = turn(
      fiveUsers(),
      new TaskBook(),
      task({
        audience: { userIds: ['u3', 'ghost', 'u1', 'u3'] },
        options: { badge: 'none', includeOnline: false, rate: 100 },
      }),
    );
    expect(of(listed.records, TOPICS.apnsRequest).map((q) => q.userId)).toEqual(['u1', 'u3']);
    expect(of(listed.records, TOPICS.pushOutcome).map((o) => [o.userId, o.code])).toEqual([
      ['ghost', 'no_device'],
    ]);
    expect(of(listed.records, TOPICS.routingTaskProgress)[0]).toMatchObject({
      state: 'done',
      targeted: 3,
      decided: 3,
    });
  });

  it('resumes from a restored checkpoint without repeating a user', () => {
    const state = fiveUsers();
    const book = new TaskBook();
    const first = turn(state, book);
    // A new owner: memory gone, the checkpoint restored from the changelog.
    const restored = new TaskBook();
    const cp = of(first.records, TOPICS.routingTaskProgress)[0] as any;
    restored.apply(progressKey(TASK, 3), cp);
    const next = turn(state, restored, task(), T0 + 100);
    expect(of(next.records, TOPICS.apnsRequest).map((q) => q.userId)).toEqual(['u3', 'u4']);
  });

  it('the output budget cuts a slice: the checkpoint is the last user decided, the rest now', () => {
    const state = fiveUsers();
    const book = new TaskBook();
    const r = turn(
      state,
      book,
      task({ options: { badge: 'none', includeOnline: false, rate: 100 } }),
      T0,
      { maxOutputBytes: 1 },
    );
    expect(of(r.records, TOPICS.apnsRequest).map((q) => q.userId)).toEqual(['u1']);
    expect(of(r.records, TOPICS.routingTaskProgress)[0]).toMatchObject({
      cursor: 'demo:u1',
      decided: 1,
    });
    expect(r.deferFrom).toEqual({ offset: '10', until: T0 });
  });

  it('a scheduled task waits for sendAt, then runs', () => {
    const state = fiveUsers();
    const book = new TaskBook();
    const sendAt = new Date(T0 + 60_000).toISOString();
    const t = task({ options: { badge: 'none', includeOnline: false, rate: 100, sendAt } });
    const r = turn(state, book, t);
    expect(of(r.records, TOPICS.routingTaskProgress)).toEqual([
      expect.objectContaining({ state: 'scheduled' }),
    ]);
    expect(r.deferFrom).toEqual({ offset: '10', until: T0 + 60_000 });
    expect(turn(state, book, t, T0 + 1000).records).toEqual([]);
    expect(of(turn(state, book, t, T0 + 60_000).records, TOPICS.apnsRequest)).toHaveLength(4);
  });

  it('tasks of a partition run side by side; the offset waits at the first unfinished', () => {
    const state = fiveUsers();
    const book = new TaskBook();
    const other = '7f1c1b1e-3c2a-4d5e-9f00-0123456789ab';
    const a = task();
    const b = {
      offset: '11',
      value: { ...task().value, taskId: other, audience: { userIds: ['u5'] } },
    };
    const r = decideTasks([a, b], state, book, opts());
    expect(of(r.records, TOPICS.apnsRequest).map((q) => [q.messageId, q.userId])).toEqual([
      [`task:${TASK}`, 'u1'],
      [`task:${other}`, 'u5'],
    ]);
    expect(r.deferFrom?.offset).toBe('10');
  });

  it('stop ends the task at its next turn; revoke replaces what it sent', () => {
    const state = fiveUsers();
    const book = new TaskBook();
    turn(state, book); // u1 pushed, u2 online
    const stop = decideControls([control(true)], state, book, opts(T0 + 10));
    for (const rec of stop.records) encodeOutbound(rec);
    state.commitBadges(stop.badges);
    book.commit(stop.progress, new Map());
    const replaced = of(stop.records, TOPICS.apnsRequest);
    expect(replaced.map((q) => [q.userId, q.jobId !== undefined, q.collapseId])).toEqual([
      ['u1', true, expect.any(String)],
    ]);
    expect(replaced[0].payload.aps.alert.body).toBe('This message was recalled');
    expect(of(stop.records, TOPICS.routingTaskProgress)[0]).toMatchObject({
      state: 'stopped',
      revoke: { done: true, users: 1 },
    });
    expect(stop.deferFrom).toBeUndefined();
    expect(turn(state, book, task(), T0 + 5000).records).toEqual([]);
    // A repeated revoke finds nothing.
    expect(decideControls([control(true)], state, book, opts(T0 + 20)).records).toEqual([]);
  });

  it('a stop without revoke before the task started keeps it from starting', () => {
    const state = fiveUsers();
    const book = new TaskBook();
    const stop = decideControls([control(false)], state, book, opts());
    book.commit(stop.progress, new Map());
    expect(of(stop.records, TOPICS.routingTaskProgress)[0]).toMatchObject({
      state: 'stopped',
      decided: 0,
    });
    expect(turn(state, book).records).toEqual([]);
  });

  it('a task of an app not in the apps file is refused', () => {
    const r = decideTasks([task({ appId: 'nope' })], fiveUsers(), new TaskBook(), opts());
    expect(r.unknownApp).toHaveLength(1);
    expect(r.records).toEqual([]);
  });

  it('pixel devices get the FCM message without notification_count (badge none)', () => {
    const state = new DecideState();
    state.applyTokens('demo:p1', tokens([pixel()], {}, 'p1'), 3);
    const r = turn(state, new TaskBook());
    const m = of(r.records, TOPICS.fcmRequest)[0].message;
    expect(m.android.notification.notification_count).toBeUndefined();
    expect(m.android.notification.tag).toBe('c2c:system');
  });
});
