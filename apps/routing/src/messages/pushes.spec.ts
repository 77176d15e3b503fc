import { PushTaskRequestSchema, TOPICS, userKey } from '@app/contracts';
import { ValidationProblem } from '@app/http';
import { encodeOutbound, outbound, partitionOfKey } from '@app/kafka';
import { parsePushBody } from './push-body.util';
import { splitTask } from './pushes.service';

const NOW = new Date('2026-11-26T05:00:00.000Z');
const content = { offlinePush: { desc: 'Hello' } };
const fieldsOf = (body: unknown): string[] => {
  try {
    parsePushBody(body, NOW);
  } catch (e) {
    if (e instanceof ValidationProblem) {
      return (e.errors ?? []).map((x) => x.field);
    }
    throw e;
  }
  return [];
};

describe('POST .../pushes body', () => {
  it('takes a minimal body with the defaults', () => {
    const b = parsePushBody({ ...content, audience: { all: true } }, NOW);
    expect(b.options).toEqual({ badge: 'none', includeOnline: false, rate: 1000 });
    expect(b.ttlSeconds).toBe(604800);
  });

  it.each([
    ['no text', { offlinePush: { title: 'T' }, audience: { all: true } }, ['offlinePush.desc']],
    ['two audiences', { ...content, audience: { all: true, userIds: ['a'] } }, ['audience']],
    ['no audience', { ...content }, ['audience']],
    ['empty tags', { ...content, audience: { tags: {} } }, ['audience']],
    ['a bad tag', { ...content, audience: { tags: { or: ['a b'] } } }, ['audience']],
    ['rate 0', { ...content, audience: { all: true }, options: { rate: 0 } }, ['options.rate']],
    [
      'rate too high',
      { ...content, audience: { all: true }, options: { rate: 100_001 } },
      ['options.rate'],
    ],
    [
      'bad badge',
      { ...content, audience: { all: true }, options: { badge: 'x' } },
      ['options.badge'],
    ],
    ['unknown top field', { ...content, audience: { all: true }, extra: 1 }, ['extra']],
    [
      'unknown option',
      { ...content, audience: { all: true }, options: { speed: 1 } },
      ['options.speed'],
    ],
    [
      'unknown offlinePush field',
      { offlinePush: { desc: 'x', sonud: 'a' }, audience: { all: true } },
      ['offlinePush.sonud'],
    ],
    [
      'pushFlag 1',
      { offlinePush: { desc: 'x', pushFlag: 1 }, audience: { all: true } },
      ['offlinePush.pushFlag'],
    ],
    [
      'a call',
      { offlinePush: { desc: 'x', apns: { pushType: 'voip' } }, audience: { all: true } },
      ['offlinePush.apns'],
    ],
    [
      'sendAt too far',
      { ...content, audience: { all: true }, options: { sendAt: '2027-01-01T00:00:00Z' } },
      ['options.sendAt'],
    ],
    ['a listed id with ":"', { ...content, audience: { userIds: ['a:b'] } }, ['audience']],
  ])('refuses %s', (_, body, fields) => {
    const got = fieldsOf(body);
    expect(got.length).toBeGreaterThan(0);
    for (const f of fields) expect(got.some((g) => g === f || g.startsWith(`${f}.`))).toBe(true);
  });

  it('refuses more than 100,000 listed users', () => {
    const userIds = Array.from({ length: 100_001 }, (_, i) => `u${i}`);
    expect(fieldsOf({ ...content, audience: { userIds } })).toEqual(['audience']);
  });
});

describe('splitTask', () => {
  const req = (audience: unknown) => PushTaskRequestSchema.parse({ ...content, audience });

  it('all users: one record per partition, each with the whole audience', () => {
    const tasks = splitTask('demo', 'task-1', req({ all: true }), 12, NOW);
    expect(tasks.map((t) => t.partition)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(tasks.every((t) => t.records === 12 && t.partitions === 12)).toBe(true);
  });

  it('listed users: each on the partition of its key, once; empty partitions get nothing', () => {
    const ids = Array.from({ length: 50 }, (_, i) => `user${i}`);
    const tasks = splitTask('demo', 'task-1', req({ userIds: [...ids, 'user3'] }), 12, NOW);
    const seen = tasks.flatMap((t) => ('userIds' in t.audience ? t.audience.userIds : []));
    expect(seen.sort()).toEqual([...ids].sort());
    for (const t of tasks) {
      if (!('userIds' in t.audience)) throw new Error('listed');
      for (const u of t.audience.userIds) {
        expect(partitionOfKey(userKey({ appId: 'demo', userId: u }), 12)).toBe(t.partition);
      }
      expect(t.records).toBe(tasks.length);
    }
    const one = splitTask('demo', 'task-2', req({ userIds: ['solo'] }), 12, NOW);
    expect(one).toHaveLength(1);
  });

  it('records go to their explicit partition and fit the topic', () => {
    const userIds = Array.from({ length: 100_000 }, (_, i) => `user-${i}`);
    const tasks = splitTask(
      'demo',
      '6f1c1b1e-3c2a-4d5e-9f00-0123456789ab',
      req({ userIds }),
      12,
      NOW,
    );
    for (const t of tasks) {
      const e = encodeOutbound(outbound(TOPICS.pushTask, t, { partition: t.partition }));
      expect(e.message.partition).toBe(t.partition);
      expect(e.message.key).toBe(t.taskId);
    }
  });
});
