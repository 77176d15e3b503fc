import {
  addDays,
  daysOf,
  partitionDay,
  partitionName,
  partitionsToCreate,
  partitionsToDrop,
  retentionWindow,
  utcDay,
} from './partition-days';

describe('daily partitions', () => {
  it('names a partition after its UTC day and reads the day back', () => {
    expect(partitionName('outcomes', '2026-11-29')).toBe('outcomes_p20261129');
    expect(partitionName('outcome_rollups', '2027-01-01')).toBe('outcome_rollups_p20270101');
    expect(partitionDay('outcomes', 'outcomes_p20261129')).toBe('2026-11-29');
    expect(partitionDay('outcome_rollups', 'outcome_rollups_p20240229')).toBe('2024-02-29');
  });

  it.each([
    ['outcomes', 'outcome_rollups_p20261129'], // another table's partition
    ['outcome_rollups', 'outcomes_p20261129'],
    ['outcomes', 'outcomes_p2026112'],
    ['outcomes', 'outcomes_p20261329'], // month 13
    ['outcomes', 'outcomes_p20230229'], // not a leap year
    ['outcomes', 'outcomes_default'],
  ] as const)('%s does not own %s', (table, name) => {
    expect(partitionDay(table, name)).toBeUndefined();
  });

  it('takes the UTC day, whatever the offset the instant was written with', () => {
    expect(utcDay(Date.parse('2026-11-29T23:59:59.999Z'))).toBe('2026-11-29');
    expect(utcDay(Date.parse('2026-11-30T00:30:00+01:00'))).toBe('2026-11-29');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2024-03-01', -1)).toBe('2024-02-29');
  });

  it('keeps every row at least the retention: today minus the days, up to the days ahead', () => {
    const now = Date.parse('2026-11-29T10:00:00Z');
    const w = retentionWindow(now, 7, 2);
    expect(w).toEqual({ oldest: '2026-11-22', newest: '2026-12-01' });
    expect(daysOf(w)).toHaveLength(10);
    expect(partitionsToDrop(['2026-11-30', '2026-11-21', '2026-11-22', '2026-11-01'], w)).toEqual([
      '2026-11-01',
      '2026-11-21',
    ]);
    expect(partitionsToCreate(['2026-11-29', '2026-12-01'], '2026-11-29', '2026-12-01')).toEqual([
      '2026-11-30',
    ]);
  });
});
