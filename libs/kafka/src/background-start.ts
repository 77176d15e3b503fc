import type { Logger } from '@nestjs/common';

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
    const { logger, what, isFatal } = this.opts;
    const max = this.opts.maxDelayMs ?? 30000;
    this.done = (async () => {
      for (let delay = this.opts.initialDelayMs ?? 1000; !this.stopping;) {
        try {
          await attempt();
          return;
        } catch (e) {
          const err = e as Error;
          if (isFatal?.(err)) {
            logger.fatal({ msg: `cannot start ${what}`, err: err.message });
            process.exit(1);
          }
          logger.warn({
            msg: `cannot start ${what}; retrying`,
            err: err.message,
            retryInMs: delay,
          });
          await reset().catch(() => undefined);
          await new Promise<void>((r) => {
            const t = setTimeout(r, delay);
            this.wake = () => {
              clearTimeout(t);
              r();
            };
          });
          delay = Math.min(delay * 2, max);
        }
      }
    })();
  }

  /** Stops retrying and waits for the attempt in flight, if any. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.done;
  }
}
