import { RetryAfterTracker } from './retry-after.tracker';

describe('RetryAfterTracker', () => {
  const path = '/v1/projects/p1/messages:send';

  it('keeps the longest window a project asked for, until it passes', () => {
    const t = new RetryAfterTracker();
    t.observe(path, 429, { 'retry-after': '30' }, 1000);
    t.observe(path, 503, { 'retry-after': '5' }, 1000);
    expect(t.retryAfterMs('p1', 1000)).toBe(30_000);
    expect(t.retryAfterMs('p1', 20_000)).toBe(11_000);
    expect(t.retryAfterMs('p1', 31_000)).toBeUndefined();
    expect(t.retryAfterMs('p2', 1000)).toBeUndefined();
  });

  it('ignores successes, other paths and answers without the header', () => {
    const t = new RetryAfterTracker();
    t.observe(path, 200, { 'retry-after': '30' });
    t.observe('/token', 429, { 'retry-after': '30' });
    t.observe(path, 429, {});
    expect(t.retryAfterMs('p1')).toBeUndefined();
  });
});
