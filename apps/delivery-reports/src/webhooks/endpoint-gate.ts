import { RetryPolicy } from '@app/dispatch';

/** What an attempt came to, as far as the gate cares. */
export interface AttemptVerdict {
  ok: boolean;
  /** The receiver's Retry-After in ms (429 / 503). */
  retryAfterMs?: number;
  /** Answered before the caller stopped waiting (the webhook is not slow). */
  quick?: boolean;
}

interface Waiter {
  resolve: (acquired: boolean) => void;
  timer: NodeJS.Timeout;
}

/**
 * One webhook's admission in this process: at most `maxInFlight` POSTs at once, and after a
 * failure a pause (exponential backoff with full jitter, never shorter than a Retry-After) during
 * which nothing is sent to it; once the pause is over, one probe at a time until one succeeds.
 * Every delivery of the webhook shares it, whichever partition or topic it comes from, so a down
 * endpoint gets one request per backoff step rather than one per parked delivery.
 */
export class EndpointGate {
  private inFlight = 0;
  private failures = 0;
  private pausedUntil = 0;
  /** An attempt outlived the caller's wait and none answered quickly since: never wait for a slot. */
  private slow = false;
  private readonly waiters: Waiter[] = [];

  constructor(
    private readonly maxInFlight: number,
    private readonly policy: RetryPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  /** Consecutive failed attempts (0 when the last one succeeded). */
  get failureCount(): number {
    return this.failures;
  }

  /** Until when nothing is sent (epoch ms; in the past when not paused). */
  get pausedUntilMs(): number {
    return this.pausedUntil;
  }

  get active(): number {
    return this.inFlight;
  }

  private admits(): boolean {
    if (this.now() < this.pausedUntil) return false;
    // After failures, one probe at a time until one succeeds.
    const limit = this.failures > 0 ? 1 : this.maxInFlight;
    return this.inFlight < limit;
  }

  /**
   * A slot for one POST, waiting until `deadline` (epoch ms) at most; false when the webhook is
   * paused, slow (its slots are held by requests that outlived a wait: no point waiting) or still
   * full at the deadline (the caller hands the delivery to the retry topic).
   */
  acquire(deadline: number): Promise<boolean> {
    if (this.admits()) {
      this.inFlight++;
      return Promise.resolve(true);
    }
    if (this.slow || this.now() < this.pausedUntil || this.now() >= deadline) {
      return Promise.resolve(false);
    }
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        resolve,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          resolve(false);
        }, deadline - this.now()),
      };
      this.waiters.push(waiter);
    });
  }

  /** An attempt is still in flight when its caller stopped waiting for it. */
  markSlow(): void {
    this.slow = true;
    this.wake();
  }

  get isSlow(): boolean {
    return this.slow;
  }

  /** Gives the slot back with the attempt's verdict; a failure pauses the webhook. */
  release(verdict: AttemptVerdict): void {
    this.inFlight--;
    if (verdict.quick) this.slow = false;
    const now = this.now();
    if (verdict.ok) {
      this.failures = 0;
      this.pausedUntil = 0;
    } else if (now >= this.pausedUntil) {
      const wait = this.policy.delayMs(this.failures, { retryAfterMs: verdict.retryAfterMs });
      this.failures++;
      this.pausedUntil = now + wait;
    } else if (verdict.retryAfterMs !== undefined) {
      // Already paused by a concurrent failure: a Retry-After can only lengthen the pause.
      this.pausedUntil = Math.max(this.pausedUntil, now + verdict.retryAfterMs);
    }
    this.wake();
  }

  /** Waiters whose turn it is now (a slot free and no pause): each takes one slot. */
  private wake(): void {
    while (this.waiters.length > 0 && this.admits()) {
      const w = this.waiters.shift()!;
      clearTimeout(w.timer);
      this.inFlight++;
      w.resolve(true);
    }
    if (this.waiters.length > 0 && (this.slow || this.now() < this.pausedUntil)) {
      // Paused or slow: no slot is worth waiting for.
      for (const w of this.waiters.splice(0)) {
        clearTimeout(w.timer);
        w.resolve(false);
      }
    }
  }

  /**
   * When a delivery that could not be sent now should come back: at the end of the pause, else
   * after `busyMs` (the webhook was only full).
   */
  nextChance(busyMs: number): number {
    const now = this.now();
    return this.pausedUntil > now ? this.pausedUntil : now + busyMs;
  }

  /** Gives every waiter up (shutdown). */
  close(): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.resolve(false);
    }
  }
}
