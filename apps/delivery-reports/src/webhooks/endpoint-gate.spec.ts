import { RetryPolicy } from '@app/dispatch';
import { EndpointGate } from './endpoint-gate';

describe('EndpointGate', () => {
  let now = 1_000_000;
  const clock = () => now;
  // random() = 1: the full backoff ceiling, so delays are predictable.
  const policy = new RetryPolicy({ baseDelayMs: 1000, maxDelayMs: 8000, random: () => 1 });

  beforeEach(() => {
    now = 1_000_000;
  });

  it('admits up to maxInFlight at once; a waiter gets the next free slot before its deadline', async () => {
    const gate = new EndpointGate(2, policy, clock);
    expect(await gate.acquire(now)).toBe(true);
    expect(await gate.acquire(now)).toBe(true);
    expect(await gate.acquire(now)).toBe(false); // full, deadline now
    const waiting = gate.acquire(now + 10_000);
    gate.release({ ok: true });
    expect(await waiting).toBe(true);
    expect(gate.active).toBe(2);
  });

  it('pauses after a failure with a doubling backoff, never shorter than Retry-After; then one probe at a time', async () => {
    const gate = new EndpointGate(4, policy, clock);
    await gate.acquire(now);
    gate.release({ ok: false });
    expect(gate.pausedUntilMs).toBe(now + 1000);
    expect(await gate.acquire(now + 5000)).toBe(false); // paused: no waiting
    expect(gate.nextChance(300)).toBe(now + 1000);
    now += 1000;
    expect(await gate.acquire(now)).toBe(true); // the probe
    expect(await gate.acquire(now)).toBe(false); // one probe at a time
    expect(gate.nextChance(300)).toBe(now + 300); // only busy
    gate.release({ ok: false, retryAfterMs: 5000 });
    expect(gate.pausedUntilMs).toBe(now + 5000); // ceiling 2000 < Retry-After
    expect(gate.failureCount).toBe(2);
    now += 5000;
    await gate.acquire(now);
    gate.release({ ok: false });
    expect(gate.pausedUntilMs).toBe(now + 4000);
    now += 4000;
    await gate.acquire(now);
    gate.release({ ok: true });
    expect(gate.failureCount).toBe(0);
    expect(await gate.acquire(now)).toBe(true);
    expect(await gate.acquire(now)).toBe(true);
  });

  it('counts concurrent failures as one step; a later Retry-After can only lengthen the pause', async () => {
    const gate = new EndpointGate(4, policy, clock);
    await gate.acquire(now);
    await gate.acquire(now);
    await gate.acquire(now);
    gate.release({ ok: false });
    gate.release({ ok: false });
    expect(gate.failureCount).toBe(1);
    expect(gate.pausedUntilMs).toBe(now + 1000);
    gate.release({ ok: false, retryAfterMs: 30_000 });
    expect(gate.pausedUntilMs).toBe(now + 30_000);
  });

  it('does not make callers wait for a slot while the webhook is slow, until an attempt answers quickly', async () => {
    const gate = new EndpointGate(1, policy, clock);
    await gate.acquire(now);
    const waiting = gate.acquire(now + 60_000);
    gate.markSlow(); // the holder outlived its caller's wait
    expect(await waiting).toBe(false);
    expect(await gate.acquire(now + 60_000)).toBe(false);
    gate.release({ ok: true, quick: false });
    expect(gate.isSlow).toBe(true);
    expect(await gate.acquire(now)).toBe(true); // a free slot is still taken
    gate.release({ ok: true, quick: true });
    expect(gate.isSlow).toBe(false);
  });

  it('gives waiters up when a failure pauses the webhook, and on close', async () => {
    const gate = new EndpointGate(1, policy, clock);
    await gate.acquire(now);
    const w1 = gate.acquire(now + 60_000);
    gate.release({ ok: false });
    expect(await w1).toBe(false);
    const gate2 = new EndpointGate(1, policy, clock);
    await gate2.acquire(now);
    const w2 = gate2.acquire(now + 60_000);
    gate2.close();
    expect(await w2).toBe(false);
  });
});
