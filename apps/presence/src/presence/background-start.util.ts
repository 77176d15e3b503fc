import type { Logger } from '@nestjs/common';

/**
 * Starts a Kafka client in the background, again and again with backoff until it succeeds or the
 * service stops: a broker that is down at boot must not stop the service from booting (readiness
 * says it is not ready meanwhile, and it becomes ready once the broker is back).
 */
export class BackgroundStart {
  private stopping = false;
  private wake: () => void = () => undefined;
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly logger: Logger,
    private readonly what: string,
  ) {}

  /** `attempt` must leave nothing half-started when it throws (`reset` runs before the next try). */
  run(attempt: () => Promise<void>, reset: () => Promise<void>): void {
    this.done = (async () => {
      for (let delay = 1000; !this.stopping; delay = Math.min(delay * 2, 30000)) {
        try {
          await attempt();
          return;
        } catch (e) {
          this.logger.warn({
            msg: `cannot start ${this.what}; retrying`,
            err: (e as Error).message,
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
