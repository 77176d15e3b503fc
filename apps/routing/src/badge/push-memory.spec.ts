import {
  isLatestOfConversation,
  lowerBadge,
  readSyncAllowed,
  rememberPush,
  takeConversation,
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

  it("sums a read conversation's increments per device and forgets its entries", () => {
    const pushes = [
      e('a', 1, 'c2c:alice', { iphone: 1, pixel: 1 }),
      e('b', 2, 'group:g', { iphone: 1 }),
      e('c', 3, 'c2c:alice', { iphone: 2, pixel: 0 }),
    ];
    const read = takeConversation(pushes, 'c2c:alice');
    expect(Object.fromEntries(read.increments)).toEqual({ iphone: 3, pixel: 1 });
    expect(read.rest.map((p) => p.d)).toEqual(['b']);
    expect(takeConversation(read.rest, 'c2c:alice').increments.size).toBe(0);
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
