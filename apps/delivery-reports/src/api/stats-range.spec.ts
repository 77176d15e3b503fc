import { bucketCeil, bucketStart, parseGroupBy, statsRange } from './stats-range';

const t = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe('stats ranges and buckets', () => {
  it('puts an instant in its UTC minute, hour and day', () => {
    const at = t('2026-11-29T13:47:31.250Z');
    expect(iso(bucketStart(at, 'minute'))).toBe('2026-11-29T13:47:00.000Z');
    expect(iso(bucketStart(at, 'hour'))).toBe('2026-11-29T13:00:00.000Z');
    expect(iso(bucketStart(at, 'day'))).toBe('2026-11-29T00:00:00.000Z');
    expect(iso(bucketCeil(at, 'hour'))).toBe('2026-11-29T14:00:00.000Z');
    // A boundary is its own bucket's start and its own ceiling.
    expect(bucketStart(t('2026-11-29T13:00:00Z'), 'hour')).toBe(t('2026-11-29T13:00:00Z'));
    expect(bucketCeil(t('2026-11-29T13:00:00Z'), 'hour')).toBe(t('2026-11-29T13:00:00Z'));
    // Offsets are instants like any other: 00:30+01:00 is the previous UTC day.
    expect(iso(bucketStart(t('2026-11-30T00:30:00+01:00'), 'day'))).toBe(
      '2026-11-29T00:00:00.000Z',
    );
  });

  it('rounds from down and to up to whole buckets', () => {
    const r = statsRange(
      { from: '2026-11-29T10:15:00Z', to: '2026-11-29T12:01:00Z', interval: 'hour' },
      0,
    );
    expect(r).toEqual({
      from: t('2026-11-29T10:00:00Z'),
      to: t('2026-11-29T13:00:00Z'),
      interval: 'hour',
    });
  });

  it('defaults to the last buckets up to now', () => {
    const now = t('2026-11-29T10:15:00Z');
    expect(statsRange({ interval: 'minute' }, now)).toEqual({
      from: t('2026-11-29T09:16:00Z'),
      to: t('2026-11-29T10:16:00Z'),
      interval: 'minute',
    });
    expect(statsRange({ interval: 'day' }, now)).toMatchObject({ to: t('2026-11-30T00:00:00Z') });
  });

  it('refuses an empty or reversed range and one with too many buckets, naming from', () => {
    const at = '2026-11-29T10:00:00Z';
    expect(statsRange({ from: at, to: at, interval: 'minute' }, 0)).toEqual([
      { field: 'from', message: 'must be before to' },
    ]);
    expect(
      statsRange(
        { from: '2026-11-27T00:00:00Z', to: '2026-11-29T00:00:00Z', interval: 'minute' },
        0,
      ),
    ).toEqual([expect.objectContaining({ field: 'from' })]);
    // 1,440 minutes (one day) is the most; 744 hours; 400 days.
    expect(
      statsRange(
        { from: '2026-11-28T00:00:00Z', to: '2026-11-29T00:00:00Z', interval: 'minute' },
        0,
      ),
    ).toMatchObject({ interval: 'minute' });
    expect(
      statsRange({ from: '2026-10-01T00:00:00Z', to: '2026-11-01T01:00:00Z', interval: 'hour' }, 0),
    ).toEqual([expect.objectContaining({ field: 'from' })]);
  });

  it('reads groupBy as a set of known dimensions, in a fixed order', () => {
    expect(parseGroupBy(undefined)).toEqual([]);
    expect(parseGroupBy('reason,provider')).toEqual(['provider', 'reason']);
    expect(parseGroupBy('status')).toEqual(['status']);
    expect(parseGroupBy('provider,token')).toEqual([expect.objectContaining({ field: 'groupBy' })]);
    expect(parseGroupBy('status,status')).toEqual([
      { field: 'groupBy', message: 'names a dimension twice' },
    ]);
  });
});
