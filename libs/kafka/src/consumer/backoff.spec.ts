import { Backoff } from './backoff';

const delays = (b: Backoff, n: number) => Array.from({ length: n }, () => b.next());

describe('Backoff', () => {
  it.each([
    [
      'the runner retries a batch: 200 ms doubling, capped at 30 s',
      200,
      30000,
      10,
      [200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000],
    ],
    [
      'the runner commits again: 400 ms doubling, capped at 5 s',
      400,
      5000,
      5,
      [400, 800, 1600, 3200, 5000],
    ],
    [
      'a background start: 1 s doubling, capped at 30 s',
      1000,
      30000,
      7,
      [1000, 2000, 4000, 8000, 16000, 30000, 30000],
    ],
    [
      'the outbox relay: its poll interval doubling, capped at 10 s',
      3000,
      10000,
      4,
      [3000, 6000, 10000, 10000],
    ],
    ['a first delay above the cap is used once, then the cap', 50, 20, 3, [50, 20, 20]],
  ])('%s', (_name, initialMs, maxMs, n, expected) => {
    expect(delays(new Backoff({ initialMs, maxMs }), n)).toEqual(expected);
  });

  it('reset starts over at the first delay (after a success)', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000 });
    delays(b, 3);
    b.reset();
    expect(delays(b, 2)).toEqual([100, 200]);
  });
});
