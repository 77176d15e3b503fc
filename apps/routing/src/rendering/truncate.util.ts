/** Appended to a body that had to be cut to fit the provider's payload limit. */
export const ELLIPSIS = '...';

/**
 * The first `units` UTF-16 code units of `s`, one fewer when the cut would split a surrogate pair
 * (so an emoji is dropped whole rather than leaving half of it, which is not valid text).
 */
export function cutUtf16(s: string, units: number): string {
  if (units >= s.length) return s;
  if (units <= 0) return '';
  const last = s.charCodeAt(units - 1);
  const isHigh = last >= 0xd800 && last <= 0xdbff;
  return s.slice(0, isHigh ? units - 1 : units);
}

export type FitResult<T> =
  { ok: true; value: T; bytes: number; truncated: boolean } | { ok: false; bytes: number };

/**
 * Builds a payload with the longest prefix of `body` (plus "...") that keeps it within `limit`
 * bytes. Only the body is ever cut; when even an empty body does not fit, the caller rejects.
 */
export function fitBody<T>(
  body: string,
  limit: number,
  build: (body: string) => T,
  measure: (value: T) => number,
): FitResult<T> {
  const full = build(body);
  const fullBytes = measure(full);
  if (fullBytes <= limit) return { ok: true, value: full, bytes: fullBytes, truncated: false };
  const tryLen = (n: number) => {
    const value = build(cutUtf16(body, n) + ELLIPSIS);
    return { value, bytes: measure(value) };
  };
  const smallest = tryLen(0);
  if (smallest.bytes > limit) return { ok: false, bytes: smallest.bytes };
  // Largest n whose payload fits: bytes grow monotonically with n.
  let lo = 0;
  let hi = body.length - 1;
  let best = smallest;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const attempt = tryLen(mid);
    if (attempt.bytes <= limit) {
      lo = mid;
      best = attempt;
    } else hi = mid - 1;
  }
  return { ok: true, value: best.value, bytes: best.bytes, truncated: true };
}
