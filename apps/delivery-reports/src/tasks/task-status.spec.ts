import { taskStatus, type TaskPartitionRow } from './task-status';

const row = (partition: number, over: Partial<TaskPartitionRow> = {}): TaskPartitionRow => ({
  partition,
  partitions: 3,
  records: 3,
  state: 'running',
  targeted: 10,
  decided: 5,
  revoked: null,
  revokeDone: null,
  ...over,
});
const T = '6f1c1b1e-3c2a-4d5e-9f00-0123456789ab';

describe('taskStatus', () => {
  it.each([
    [
      'every partition scheduled',
      [row(0, { state: 'scheduled' }), row(1, { state: 'scheduled' })],
      'scheduled',
      0,
    ],
    ['one scheduled, one running', [row(0, { state: 'scheduled' }), row(1)], 'running', 0],
    ['two of three done', [row(0, { state: 'done' }), row(1, { state: 'done' })], 'running', 2],
    ['all three done', [0, 1, 2].map((p) => row(p, { state: 'done' })), 'done', 3],
    [
      'a listed task over 2 partitions, both done',
      [row(4, { state: 'done', records: 2 }), row(7, { state: 'done', records: 2 })],
      'done',
      2,
    ],
    ['one stopped', [row(0, { state: 'stopped' }), row(1)], 'stopped', 1],
  ])('%s → %s', (_, rows, state, done) => {
    const s = taskStatus(T, rows, {});
    expect(s.state).toBe(state);
    expect(s.partitions.done).toBe(done);
  });

  it('adds the partitions up and maps outcome statuses', () => {
    const s = taskStatus(
      T,
      [row(0, { targeted: 4, decided: 4 }), row(1, { targeted: 6, decided: 2 })],
      {
        delivered: 5,
        suppressed: 2,
        invalid_token: 1,
        rejected: 1,
        expired: 1,
        failed: 1,
      },
    );
    expect(s).toEqual({
      taskId: T,
      state: 'running',
      partitions: { done: 0, total: 3 },
      targeted: 10,
      decided: 6,
      sent: 5,
      suppressed: 2,
      failed: 4,
    });
  });

  it('reports a revoke once every partition walked it', () => {
    const going = taskStatus(
      T,
      [0, 1, 2].map((p) => row(p, { state: 'stopped', revoked: 1, revokeDone: p < 2 })),
      {},
    );
    expect(going.revoke).toEqual({ users: 3, done: false });
    const over = taskStatus(
      T,
      [0, 1, 2].map((p) => row(p, { state: 'stopped', revoked: 1, revokeDone: true })),
      {},
    );
    expect(over.revoke).toEqual({ users: 3, done: true });
  });
});
