import { parseRetryAfter, RetryPolicy } from './retry.policy';

describe('RetryPolicy', () => {
  const req = (attempt: number, expiresInMs: number, now: number) => ({
    attempt,
    expiresAt: new Date(now + expiresInMs).toISOString(),
  });

  it('draws from [0, base * 2^attempt] (full jitter), capped', () => {
    const max = new RetryPolicy({
      baseDelayMs: 100,
      maxDelayMs: 1000,
      minDelayMs: 0,
      random: () => 0.999999,
    });
    expect(max.delayMs(0)).toBe(100);
    expect(max.delayMs(3)).toBe(800);
    expect(max.delayMs(10)).toBe(1000);
    const min = new RetryPolicy({ baseDelayMs: 100, minDelayMs: 50, random: () => 0 });
    expect(min.delayMs(5)).toBe(50);
  });

  it('never waits less than Retry-After, even beyond the cap', () => {
    const p = new RetryPolicy({ baseDelayMs: 100, maxDelayMs: 1000, random: () => 0 });
    expect(p.delayMs(0, { retryAfterMs: 5000 })).toBe(5000);
    expect(p.delayMs(0, { minDelayMs: 60000 })).toBe(60000);
  });

  it('schedules a retry before expiry and expires the job otherwise', () => {
    const now = 1_000_000;
    const p = new RetryPolicy({ baseDelayMs: 100, random: () => 0.5 });
    const ok = p.decide(req(0, 10_000, now), {}, now);
    expect(ok).toEqual({ kind: 'retry', delayMs: 100, notBefore: new Date(now + 100) });
    expect(p.decide(req(0, 10_000, now), { retryAfterMs: 10_000 }, now).kind).toBe('expired');
    expect(p.decide(req(0, 50, now), {}, now).kind).toBe('expired');
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.parse('2026-11-26T06:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(['7'], now)).toBe(7000);
    expect(parseRetryAfter('Thu, 26 Nov 2026 06:00:10 GMT', now)).toBe(10000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
