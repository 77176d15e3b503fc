import type { OutboundRecord } from '@app/kafka';
import { RecentJobs } from './recent-jobs';

const recs = (n: string) => [{ value: n } as unknown as OutboundRecord];

describe('RecentJobs', () => {
  it('replays the same attempt, drops older copies, lets a later attempt through', () => {
    const m = new RecentJobs(10);
    m.remember(1, 'j', 0, false, recs('retry'));
    expect(m.recall(1, 'j', 0)).toEqual({ kind: 'replay', records: recs('retry') });
    expect(m.recall(1, 'j', 1)).toEqual({ kind: 'new' });
    expect(m.recall(2, 'j', 0)).toEqual({ kind: 'new' });
    m.remember(1, 'j', 1, true, recs('outcome'));
    expect(m.recall(1, 'j', 0)).toEqual({ kind: 'stale' });
    expect(m.recall(1, 'j', 2)).toEqual({ kind: 'stale' });
  });

  it('forgets the oldest job past the bound, per partition', () => {
    const m = new RecentJobs(2);
    m.remember(0, 'a', 0, true, []);
    m.remember(0, 'b', 0, true, []);
    m.remember(0, 'a', 0, true, []); // refreshed: b is now the oldest
    m.remember(0, 'c', 0, true, []);
    expect(m.recall(0, 'b', 0).kind).toBe('new');
    expect(m.recall(0, 'a', 0).kind).toBe('replay');
    expect(m.size(0)).toBe(2);
  });
});
