import { planBatches } from './fcm-batches.util';

describe('planBatches', () => {
  it('groups per app, cuts at the size, and keeps the input positions', () => {
    const reqs = Array.from({ length: 1203 }, (_, i) => ({ appId: i % 3 === 0 ? 'b' : 'a', i }));
    const batches = planBatches(reqs, 500);
    expect(batches.map((b) => [b.appId, b.items.length])).toEqual([
      ['b', 401],
      ['a', 500],
      ['a', 302],
    ]);
    for (const b of batches) b.items.forEach((it, k) => expect(reqs[b.indexes[k]]).toBe(it));
    expect(batches.flatMap((b) => b.indexes).sort((x, y) => x - y)).toEqual(reqs.map((_, i) => i));
  });

  it('refuses a size below 1', () => {
    expect(() => planBatches([], 0)).toThrow();
  });
});
