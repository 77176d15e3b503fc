import type { PushAudience } from '@app/contracts';
import {
  firstAfter,
  matchesAudience,
  nextSliceAt,
  sliceQuota,
  walkSlice,
  type AudienceFacts,
} from './task-audience';

const user = (tags?: string[], attributes?: Record<string, string>): AudienceFacts => ({
  tags,
  attributes,
});

describe('matchesAudience', () => {
  const cases: [string, PushAudience, AudienceFacts, boolean][] = [
    ['listed: any user the walk reaches', { userIds: ['bob'] }, undefined, true],
    ['all', { all: true }, user(), true],
    ['tags and: all present', { tags: { and: ['vip', 'beta'] } }, user(['beta', 'vip']), true],
    ['tags and: one missing', { tags: { and: ['vip', 'beta'] } }, user(['vip']), false],
    ['tags or: one present', { tags: { or: ['vip', 'beta'] } }, user(['beta']), true],
    ['tags or: none present', { tags: { or: ['vip', 'beta'] } }, user(['gold']), false],
    ['tags and + or: both hold', { tags: { and: ['a'], or: ['b', 'c'] } }, user(['a', 'c']), true],
    ['tags and + or: or fails', { tags: { and: ['a'], or: ['b', 'c'] } }, user(['a']), false],
    ['tags: a user without tags (old snapshot)', { tags: { or: ['vip'] } }, user(), false],
    ['tags: no snapshot', { tags: { or: ['vip'] } }, undefined, false],
    [
      'attributes: all equal',
      { attributes: { city: 'SZ', lv: '3' } },
      user([], { city: 'SZ', lv: '3', x: 'y' }),
      true,
    ],
    [
      'attributes: one differs',
      { attributes: { city: 'SZ', lv: '3' } },
      user([], { city: 'SZ', lv: '4' }),
      false,
    ],
    ['attributes: missing key', { attributes: { city: '' } }, user([], {}), false],
    ['attributes: empty value equals', { attributes: { city: '' } }, user([], { city: '' }), true],
    [
      'attributes: inherited names are not attributes',
      { attributes: { toString: 'x' } },
      user([], {}),
      false,
    ],
  ];
  it.each(cases)('%s', (_, audience, facts, expected) => {
    expect(matchesAudience(audience, facts)).toBe(expected);
  });
});

describe('slicing', () => {
  it.each([
    [1000, 12, 1, 83],
    [1000, 1, 1, 1000],
    [5, 12, 1, 1],
    [600_000 / 60, 12, 2, 1666],
  ])('rate %i over %i partitions, %i s slices: %i users', (rate, partitions, seconds, quota) => {
    expect(sliceQuota(rate, partitions, seconds)).toBe(quota);
  });

  it.each([
    [0, 83, 1000, 12, 996],
    [0, 1, 1, 1, 1000],
    [5000, 10, 100, 1, 5100],
    [0, 0, 1000, 12, 0],
  ])(
    'from %i after %i users at %i/s over %i partitions: next at %i',
    (start, taken, rate, parts, at) => {
      expect(nextSliceAt(start, taken, rate, parts)).toBe(at);
    },
  );

  it('firstAfter finds the first key past the cursor', () => {
    const keys = ['a:1', 'a:2', 'a:4'];
    expect(firstAfter(keys, null)).toBe(0);
    expect(firstAfter(keys, 'a:0')).toBe(0);
    expect(firstAfter(keys, 'a:2')).toBe(2);
    expect(firstAfter(keys, 'a:3')).toBe(2);
    expect(firstAfter(keys, 'a:4')).toBe(3);
  });

  const keys = ['d:a', 'd:b', 'd:c', 'd:d', 'd:e', 'd:f'];
  it.each([
    ['from the start', null, 2, 100, () => true, ['d:a', 'd:b'], 'd:b', false],
    ['from a cursor', 'd:b', 2, 100, () => true, ['d:c', 'd:d'], 'd:d', false],
    ['to the end', 'd:d', 5, 100, () => true, ['d:e', 'd:f'], 'd:f', true],
    ['a cursor no longer present', 'd:bb', 1, 100, () => true, ['d:c'], 'd:c', false],
    ['matches only', null, 2, 100, (k: string) => k > 'd:c', ['d:d', 'd:e'], 'd:e', false],
    ['scan bound without a match', null, 5, 3, () => false, [], 'd:c', false],
    ['past the end', 'd:f', 5, 100, () => true, [], 'd:f', true],
  ])('%s', (_, cursor, limit, scan, match, taken, next, done) => {
    expect(walkSlice(keys, cursor, limit, scan, match)).toEqual({ taken, cursor: next, done });
  });

  it('a walk resumed slice by slice takes every key once', () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) {
      const s = walkSlice(keys, cursor, 4, 100, (k) => k !== 'd:c');
      seen.push(...s.taken);
      cursor = s.cursor;
      if (s.done) break;
    }
    expect(seen).toEqual(['d:a', 'd:b', 'd:d', 'd:e', 'd:f']);
  });
});
