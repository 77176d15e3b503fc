/**
 * Formatters by time zone name, most recently used last. Bounded: a zone name comes from a user's
 * settings, and while the registry stores canonical names of real zones, the topic may hold older
 * snapshots, so the number of distinct names is not ours to choose. ~600 zones exist; past
 * `MAX_CACHED_TIME_ZONES` the least recently used formatter is dropped (and rebuilt if needed).
 */
export const MAX_CACHED_TIME_ZONES = 1000;
const formatters = new Map<string, Intl.DateTimeFormat>();

const build = (timeZone: string): Intl.DateTimeFormat =>
  new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f) {
    // Most recently used goes last.
    formatters.delete(timeZone);
  } else {
    try {
      f = build(timeZone);
    } catch {
      // An unknown zone name (the registry validates it, but old snapshots may not): UTC.
      f = formatterFor('UTC');
    }
    if (formatters.size >= MAX_CACHED_TIME_ZONES) {
      formatters.delete(formatters.keys().next().value!);
    }
  }
  formatters.set(timeZone, f);
  return f;
}

/** How many formatters are cached (for tests). */
export const cachedTimeZones = (): number => formatters.size;

/** Seconds since local midnight of `at` in `timeZone` (IANA name), daylight saving included. */
export function secondOfDay(at: Date, timeZone: string): number {
  let h = 0;
  let m = 0;
  let s = 0;
  for (const part of formatterFor(timeZone).formatToParts(at)) {
    if (part.type === 'hour') h = Number(part.value);
    else if (part.type === 'minute') m = Number(part.value);
    else if (part.type === 'second') s = Number(part.value);
  }
  return (h % 24) * 3600 + m * 60 + s;
}

/**
 * Whether `at` falls in the daily window that starts at `startSecondOfDay` local time and lasts
 * `durationSeconds` (a window may wrap past midnight: 22:00 for 8 h ends at 06:00).
 */
export function inDailyWindow(
  at: Date,
  window: { startSecondOfDay: number; durationSeconds: number; timeZone: string },
): boolean {
  if (window.durationSeconds >= 86400) return true;
  const local = secondOfDay(at, window.timeZone);
  return (local - window.startSecondOfDay + 86400) % 86400 < window.durationSeconds;
}
