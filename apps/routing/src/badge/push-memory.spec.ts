import {
  isLatestOfConversation,
  lowerBadge,
  readSyncAllowed,
  readConversation,
  rememberPush,
  settleOwed,
  syncOwed,
  takeRecalled,
  trimMemory,
  type PushEntry,
} from './push-memory';

const e = (d: string, t: number, c = 'c2c:alice', v: Record<string, number> = { a: 1 }) =>
  ({ d, t, c, v }) as PushEntry;

describe('push memory', () => {
  it.each([
    // [entries (digest@time), count, seconds, now, kept]
    [['a@100', 'b@200', 'c@300'], 2, 1000, 300, ['b', 'c']], // count bound keeps the newest
    [['a@100', 'b@200', 'c@300'], 10, 150, 300, ['b', 'c']], // age bound
    [['a@100', 'b@200', 'c@300'], 10, 1000, 300, ['a', 'b', 'c']],
    [['a@100', 'b@200'], 0, 1000, 300, []], // 0 remembers nothing
    [['a@100', 'b@290', 'c@300'], 1, 5, 300, ['c']], // both bounds
  ] as const)('trims %j to %i entries / %i s at %i → %j', (list, count, seconds, now, kept) => {
    const pushes = list.map((x) => e(x.split('@')[0], Number(x.split('@')[1])));
    expect(trimMemory(pushes, { count, seconds }, now).map((p) => p.d)).toEqual(kept);
  });

  it('remembers newest last, trimmed at the new entry time, without changing the input', () => {
    const before = [e('a', 100), e('b', 200)];
    const after = rememberPush(before, e('c', 300), { count: 2, seconds: 1000 });
    expect(after.map((p) => p.d)).toEqual(['b', 'c']);
    expect(before.map((p) => p.d)).toEqual(['a', 'b']);
  });

  it('takes a recalled entry out once; a second take finds nothing', () => {
    const pushes = [e('a', 1), e('b', 2), e('c', 3)];
    const first = takeRecalled(pushes, 'b');
    expect(first?.entry.d).toBe('b');
    expect(first?.rest.map((p) => p.d)).toEqual(['a', 'c']);
    expect(takeRecalled(first!.rest, 'b')).toBeUndefined();
  });

  it.each([
    // [entries, recalled, device, latest?]
    [[e('a', 1), e('b', 2, 'c2c:carol')], 'a', 'a', true], // a newer push of another conversation
    [[e('a', 1), e('b', 2)], 'a', 'a', false], // a newer push of the same conversation
    [[e('a', 1), e('b', 2, 'c2c:alice', { other: 1 })], 'a', 'a', true], // …to another device
    [[e('a', 1), e('b', 2)], 'b', 'a', true],
  ] as const)('latest of its conversation on a device: %#', (pushes, digest, device, latest) => {
    const entry = pushes.find((p) => p.d === digest)!;
    expect(isLatestOfConversation(pushes, entry, device)).toBe(latest);
  });

  it("sums a read conversation's increments per device and marks its entries read, kept", () => {
    const pushes = [
      e('a', 1, 'c2c:alice', { iphone: 1, pixel: 1 }),
      e('b', 2, 'group:g', { iphone: 1 }),
      e('c', 3, 'c2c:alice', { iphone: 2, pixel: 0 }),
    ];
    const read = readConversation(pushes, 'c2c:alice', 10, 'pixel');
    expect(Object.fromEntries(read.increments)).toEqual({ iphone: 3, pixel: 1 });
    // Increments zeroed (nothing left to subtract), the reader left out, the sync owed.
    expect(read.pushes).toEqual([
      { d: 'a', t: 1, c: 'c2c:alice', v: { iphone: 0 }, r: 2 },
      pushes[1],
      { d: 'c', t: 3, c: 'c2c:alice', v: { iphone: 0 }, r: 2 },
    ]);
    expect(readConversation(read.pushes, 'c2c:alice', 10, null).increments.size).toBe(0);
    // A recall after the read still finds the entry, with nothing to subtract.
    expect(takeRecalled(read.pushes, 'a')?.entry).toEqual(read.pushes[0]);
  });

  it.each([
    // [pushed at t, sent s seconds before, readAt, taken?]
    [100, 0, 100, true], // pushed in the read's second
    [100, 0, 99, false], // pushed after the read (intents and reads lag independently)
    [120, 0, 105, false], // the review's case: pushed 20 s after, read applied later
    [120, 30, 105, true], // pushed late (decide lag), but sent before the read
    [120, 10, 105, false], // sent after the read
  ])('a push at %i sent %i s earlier, read at %i: taken %s', (t, lag, readAt, taken) => {
    const entry = { ...e('a', t), ...(lag ? { s: lag } : {}) };
    const read = readConversation([entry], 'c2c:alice', readAt, null);
    expect(read.increments.size > 0).toBe(taken);
    expect(read.pushes).toEqual([taken ? { ...entry, v: { a: 0 }, r: 2 } : entry]);
  });

  it('settles owed syncs: per device the conversations to clear, newest last, once each', () => {
    const pushes = [
      { ...e('a', 1, 'c2c:alice', { iphone: 0 }), r: 2 as const },
      { ...e('b', 2, 'group:g', { iphone: 0, web: 0 }), r: 2 as const },
      { ...e('c', 3, 'c2c:alice', { iphone: 0 }), r: 2 as const },
      { ...e('d', 4, 'c2c:erin', { iphone: 0 }), r: 1 as const }, // synced already
      e('f', 5, 'c2c:frank', { iphone: 1 }), // unread
    ];
    expect(syncOwed(pushes)).toBe(true);
    const settled = settleOwed(pushes);
    expect(Object.fromEntries(settled.clear)).toEqual({
      iphone: ['group:g', 'c2c:alice'],
      web: ['group:g'],
    });
    expect(settled.pushes.map((p) => p.r)).toEqual([1, 1, 1, 1, undefined]);
    expect(syncOwed(settled.pushes)).toBe(false);
    expect(settleOwed(settled.pushes).clear.size).toBe(0);
  });

  it('a recall takes every copy of a message (records from before repeats were caught)', () => {
    const pushes = [
      e('a', 1, 'c2c:alice', { iphone: 1 }),
      e('b', 2),
      e('a', 3, 'c2c:alice', { iphone: 1, pixel: 1 }),
    ];
    const taken = takeRecalled(pushes, 'a')!;
    expect(taken.entry).toEqual({ d: 'a', t: 3, c: 'c2c:alice', v: { iphone: 2, pixel: 1 } });
    expect(taken.rest.map((p) => p.d)).toEqual(['b']);
    expect(takeRecalled(taken.rest, 'a')).toBeUndefined();
    expect(isLatestOfConversation(pushes, taken.entry, 'iphone')).toBe(true);
  });

  it('remembers at most 100 devices of a push', () => {
    const v = Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`d${i}`, 1]));
    const [kept] = rememberPush([], e('a', 1, 'c2c:alice', v), { count: 16, seconds: 100 });
    expect(Object.keys(kept.v)).toHaveLength(100);
  });

  it.each([
    [5, 1, 4],
    [1, 3, 0], // never below 0
    [0, 0, 0],
  ])('lowers %i by %i to %i', (count, by, next) => {
    expect(lowerBadge({ count, at: 'x' }, by, 'now')).toEqual({ count: next, at: 'now' });
  });

  it.each([
    [0, 100, 10, true], // never synced
    [95, 100, 10, false],
    [90, 100, 10, true],
    [100, 100, 0, true], // no limit
  ])('read sync last %i, now %i, interval %i → allowed %s', (last, now, interval, allowed) => {
    expect(readSyncAllowed(last, now, interval)).toBe(allowed);
  });
});
