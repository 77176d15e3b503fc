import type { DispatchRequest } from './dispatch.types';

export interface RetryPolicyOptions {
  /** First backoff ceiling; attempt n draws from [0, base * 2^n]. Default 1000 ms. */
  baseDelayMs?: number;
  /** Cap of the ceiling (and of any Retry-After). Default 10 minutes. */
  maxDelayMs?: number;
  /** The smallest wait ever scheduled, so a zero draw does not hammer. Default 100 ms. */
  minDelayMs?: number;
  /** For tests: a source of randomness in [0, 1). */
  random?: () => number;
}

export type RetryDecision =
  { kind: 'retry'; delayMs: number; notBefore: Date } | { kind: 'expired'; wouldWaitMs: number };

/**
 * Exponential backoff with full jitter (AWS architecture blog: "Exponential Backoff And Jitter"):
 * the wait is drawn uniformly from [0, min(cap, base * 2^attempt)], so retries of many jobs that
 * failed together spread out instead of arriving together. A provider's Retry-After (and a
 * per-error floor) is a lower bound on the wait. A retry that could only happen at or after
 * `expiresAt` is not scheduled: the job is `expired`.
 */
export class RetryPolicy {
  private readonly base: number;
  private readonly cap: number;
  private readonly floor: number;
  private readonly random: () => number;

  constructor(opts: RetryPolicyOptions = {}) {
    this.base = opts.baseDelayMs ?? 1000;
    this.cap = opts.maxDelayMs ?? 600_000;
    this.floor = opts.minDelayMs ?? 100;
    this.random = opts.random ?? Math.random;
  }

  /** The wait before the next try of a request that has already been tried `attempt + 1` times. */
  delayMs(attempt: number, hints: { retryAfterMs?: number; minDelayMs?: number } = {}): number {
    const ceiling = Math.min(this.cap, this.base * 2 ** Math.min(attempt, 30));
    const jittered = this.random() * ceiling;
    const lower = Math.max(this.floor, hints.retryAfterMs ?? 0, hints.minDelayMs ?? 0);
    return Math.round(Math.min(Math.max(jittered, lower), Math.max(this.cap, lower)));
  }

  decide(
    req: Pick<DispatchRequest, 'attempt' | 'expiresAt'>,
    hints: { retryAfterMs?: number; minDelayMs?: number } = {},
    now = Date.now(),
  ): RetryDecision {
    const delayMs = this.delayMs(req.attempt, hints);
    const at = now + delayMs;
    if (at >= Date.parse(req.expiresAt)) return { kind: 'expired', wouldWaitMs: delayMs };
    return { kind: 'retry', delayMs, notBefore: new Date(at) };
  }
}

/**
 * A Retry-After header (RFC 9110: delay-seconds or an HTTP date) in ms from now; undefined when
 * absent or unreadable. Header names differ in case between providers: pass the value, not the map.
 */
export function parseRetryAfter(
  value: string | number | string[] | undefined | null,
  now = Date.now(),
): number | undefined {
  if (value === undefined || value === null) return undefined;
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  if (typeof v === 'number') return v >= 0 ? v * 1000 : undefined;
  const trimmed = v.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
