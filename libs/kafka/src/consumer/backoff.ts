/** The one backoff policy of the Kafka library: the first delay, then double it up to a cap. */
export interface BackoffPolicy {
  /** The first delay (used as is, even above the cap). */
  initialMs: number;
  /** No later delay is longer. */
  maxMs: number;
}

/**
 * The delays of one run of retries: `next()` gives `initialMs`, then twice the previous delay,
 * capped at `maxMs`; `reset()` starts over (after a success). Shared by the consumer runner's
 * retries, `BackgroundStart` and the registry's outbox relay.
 */
export class Backoff {
  private current: number;

  constructor(private readonly policy: BackoffPolicy) {
    this.current = policy.initialMs;
  }

  /** The delay to wait now; the next one doubles (up to the cap). */
  next(): number {
    const delay = this.current;
    this.current = Math.min(delay * 2, this.policy.maxMs);
    return delay;
  }

  reset(): void {
    this.current = this.policy.initialMs;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
