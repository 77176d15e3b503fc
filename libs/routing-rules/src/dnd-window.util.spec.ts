import { cachedTimeZones, MAX_CACHED_TIME_ZONES, secondOfDay } from './dnd-window.util';

/** Every upper/lower-case spelling of a zone: Intl accepts them all as the same zone. */
function* spellings(zone: string): Generator<string> {
  const letters = [...zone];
  const n = Math.min(letters.filter((c) => /[a-z]/i.test(c)).length, 14);
  for (let mask = 0; mask < 1 << n; mask++) {
    let bit = 0;
    yield letters
      .map((c) =>
        /[a-z]/i.test(c) && bit < n ? ((mask >> bit++) & 1 ? c.toUpperCase() : c.toLowerCase()) : c,
      )
      .join('');
  }
}

describe('the time zone formatter cache', () => {
  const at = new Date('2030-07-01T12:00:00.000Z'); // 14:00 in Berlin (summer time)

  it(`holds at most ${MAX_CACHED_TIME_ZONES} formatters, however many names come in`, () => {
    let seen = 0;
    for (const name of spellings('Europe/Berlin')) {
      expect(secondOfDay(at, name)).toBe(14 * 3600);
      if (++seen >= 3 * MAX_CACHED_TIME_ZONES) break;
    }
    for (let i = 0; i < MAX_CACHED_TIME_ZONES; i++) {
      // Unknown zones fall back to UTC, and are bounded too.
      expect(secondOfDay(at, `Nowhere/Zone${i}`)).toBe(12 * 3600);
    }
    expect(cachedTimeZones()).toBeLessThanOrEqual(MAX_CACHED_TIME_ZONES);
  });

  it('still answers right for zones evicted and built again', () => {
    expect(secondOfDay(at, 'Europe/Berlin')).toBe(14 * 3600);
    expect(secondOfDay(at, 'America/New_York')).toBe(8 * 3600);
    expect(secondOfDay(at, 'UTC')).toBe(12 * 3600);
    expect(cachedTimeZones()).toBeLessThanOrEqual(MAX_CACHED_TIME_ZONES);
  });
});
