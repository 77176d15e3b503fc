import { Logger } from '@nestjs/common';
import { BackgroundStart } from './background-start';

const logger = new Logger('test');
beforeAll(() => Logger.overrideLogger(false));

describe('BackgroundStart', () => {
  it('retries a failing start with backoff, resetting between tries, until it succeeds', async () => {
    const calls: string[] = [];
    let fails = 2;
    const s = new BackgroundStart({ what: 'x', logger, initialDelayMs: 5, maxDelayMs: 10 });
    const started = new Promise<void>((resolve) =>
      s.run(
        async () => {
          calls.push('attempt');
          if (fails-- > 0) throw new Error('broker not there');
          resolve();
        },
        async () => void calls.push('reset'),
      ),
    );
    await started;
    await s.stop();
    expect(calls).toEqual(['attempt', 'reset', 'attempt', 'reset', 'attempt']);
  });

  it('stops retrying when stopped, without waiting out the backoff', async () => {
    let attempts = 0;
    const s = new BackgroundStart({ what: 'x', logger, initialDelayMs: 60_000 });
    s.run(
      async () => {
        attempts++;
        throw new Error('down');
      },
      async () => undefined,
    );
    await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    await s.stop();
    expect(Date.now() - t0).toBeLessThan(10_000); // not the 60 s backoff
    expect(attempts).toBe(1);
  });

  it('exits the process on an error no retry fixes', async () => {
    const exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const s = new BackgroundStart({
      what: 'x',
      logger,
      initialDelayMs: 5,
      isFatal: (e) => e.message.startsWith('partition count differs'),
    });
    s.run(
      async () => {
        throw new Error('partition count differs for topic t');
      },
      async () => undefined,
    );
    await new Promise((r) => setTimeout(r, 30));
    await s.stop();
    expect(exit).toHaveBeenCalledWith(1);
    exit.mockRestore();
  });
});

describe('BackgroundStart: backoff', () => {
  it.each([
    [
      'backs off from the first delay, doubling up to the cap (the shared policy)',
      5,
      20,
      5,
      [5, 10, 20, 20, 20],
    ],
    ['waits 1 s after a first failure by default', undefined, undefined, 1, [1000]],
  ])('%s', async (_name, initialDelayMs, maxDelayMs, failures, delays) => {
    const warn = jest.fn();
    const s = new BackgroundStart({
      what: 'x',
      logger: { warn, fatal: jest.fn() } as unknown as Logger,
      initialDelayMs,
      maxDelayMs,
    });
    let left = failures;
    const started = new Promise<void>((resolve) =>
      s.run(
        async () => {
          if (left-- > 0) throw new Error('down');
          resolve();
        },
        async () => undefined,
      ),
    );
    if (initialDelayMs === undefined) {
      await new Promise((r) => setTimeout(r, 10));
      await s.stop(); // not waiting out the 1 s
    } else await started;
    await s.stop();
    expect(warn.mock.calls.map(([m]: [{ retryInMs: number }]) => m.retryInMs)).toEqual(delays);
  });
});
