import type { Logger } from '@nestjs/common';
import { Backoff } from './consumer/backoff';

export interface BackgroundStartOptions {
  /** Named in the log lines, e.g. "the presence consumer". */
  what: string;
  logger: Logger;
  /**
   * Errors no retry can fix (a topic with the wrong partition count): logged as fatal, and the
   * process exits 1, as it does for a missing setting at boot.
   */
  isFatal?: (e: Error) => boolean;
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Starts a Kafka client in the background, again and again with backoff until it succeeds or the
 * service stops: a broker that is down (or a coordinator still loading) at boot must not stop the
 * service from booting. Readiness says it is not ready meanwhile, and ready once it runs.
 */
export class BackgroundStart {
  private stopping = false;
  private wake: () => void = () => undefined;
  private done: Promise<void> = Promise.resolve();

  constructor(private readonly opts: BackgroundStartOptions) {}

  /** `attempt` must leave nothing half-started when it throws (`reset` runs before the next try). */
  run(attempt: () => Promise<void>, reset: () => Promise<void>): void {
    const backoff = new Backoff({
      initialMs: this.opts.initialDelayMs ?? 1000,
      maxMs: this.opts.maxDelayMs ?? 30000,
    });
    this.done = (async () => {
      while (!this.stopping) {
        try {
          await attempt();
          return;
        } catch (e) {
          const delay = backoff.next();
          this.failed(e as Error, delay);
          await reset().catch(() => undefined);
          await this.pause(delay);
        }
      }
    })();
  }

  /** Logs the failed attempt; an error no retry fixes ends the process. */
  private failed(err: Error, retryInMs: number): void {
    const { logger, what, isFatal } = this.opts;
    if (isFatal?.(err)) {
      logger.fatal({ msg: `cannot start ${what}`, err: err.message });
      process.exit(1);
    }
    logger.warn({ msg: `cannot start ${what}; retrying`, err: err.message, retryInMs });
  }

  /** Waits `ms`, or less when stopped. */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      this.wake = () => {
        clearTimeout(t);
        r();
      };
    });
  }

  /** Stops retrying and waits for the attempt in flight, if any. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.done;
  }
}
