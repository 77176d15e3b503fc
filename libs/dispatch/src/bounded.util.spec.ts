import { mapBounded, Semaphore } from './bounded.util';

describe('bounded concurrency', () => {
  it('never runs more than the limit and keeps the order', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapBounded([5, 1, 4, 2, 3, 0], 2, async (ms, i) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, ms));
      running--;
      return i;
    });
    expect(out).toEqual([0, 1, 2, 3, 4, 5]);
    expect(peak).toBe(2);
  });

  it('serves waiters in order', async () => {
    const s = new Semaphore(1);
    const order: number[] = [];
    await s.acquire();
    const a = s.acquire().then(() => order.push(1));
    const b = s.acquire().then(() => order.push(2));
    expect(s.waiting).toBe(2);
    s.release();
    await a;
    s.release();
    await b;
    expect(order).toEqual([1, 2]);
    expect(s.inUse).toBe(1);
  });
});
