import { presence } from '../../../../libs/routing-rules/test-fixtures/routing.fixtures';
import { nextBadge, type DeviceBadge } from './badge.counter';

const NOW = new Date('2026-11-26T05:00:00.000Z');
const before = '2026-11-26T04:00:00.000Z';
const after = '2026-11-26T04:30:00.000Z';
const bg = (unreadCount: number | null, since: string) =>
  presence([{ deviceId: 'd', unreadCount, since }]).devices[0];
const prev = (count: number, at = before): DeviceBadge => ({ count, at });

describe('badge counter', () => {
  it.each<
    [
      string,
      DeviceBadge | undefined,
      ReturnType<typeof bg> | undefined,
      object | null,
      'apns' | 'fcm',
      number,
      number | null,
    ]
  >([
    ['first push without presence: 1', undefined, undefined, null, 'apns', 1, 1],
    ['baseline from the last background report', undefined, bg(3, after), null, 'apns', 4, 4],
    ['+1 per push', prev(4, after), bg(3, before), null, 'apns', 5, 5],
    [
      'presence changed after the last push: rebase (foreground reset, then background 0)',
      prev(9),
      bg(0, after),
      null,
      'fcm',
      1,
      1,
    ],
    ['presence changed, no count reported: reset', prev(9), bg(null, after), null, 'apns', 1, 1],
    [
      'badgeMode 1 leaves it (APNs)',
      prev(4, after),
      bg(3, before),
      { apns: { badgeMode: 1 } },
      'apns',
      4,
      null,
    ],
    [
      'badgeMode is APNs only',
      prev(4, after),
      bg(3, before),
      { apns: { badgeMode: 1 } },
      'fcm',
      5,
      5,
    ],
    ['badgeSetNum sets', prev(4, after), undefined, { badgeSetNum: 0 }, 'apns', 0, 0],
    ['badgeAddNum adds', prev(4, after), undefined, { badgeAddNum: 10 }, 'fcm', 14, 14],
  ])('%s', (_n, p, pres, op, platform, stored, shown) => {
    const step = nextBadge(p, pres, op, platform, NOW);
    expect(step.next).toEqual({ count: stored, at: NOW.toISOString() });
    expect(step.shown).toBe(shown);
  });
});
