import { PartitionTurns } from './partition-turns';

const tick = () => new Promise((r) => setImmediate(r));

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

describe('PartitionTurns', () => {
  it('runs the tasks of one partition one after the other, in order', async () => {
    const turns = new PartitionTurns();
    const log: string[] = [];
    const first = gate();
    const a = turns.run(3, async () => {
      log.push('a start');
      await first.opened;
      log.push('a end');
    });
    const b = turns.run(3, async () => {
      log.push('b');
    });
    await tick();
    expect(log).toEqual(['a start']);
    first.open();
    await Promise.all([a, b]);
    await tick();
    expect(log).toEqual(['a start', 'a end', 'b']);
    expect(turns.busy).toBe(0);
  });

  it('runs tasks of different partitions at once', async () => {
    const turns = new PartitionTurns();
    const log: string[] = [];
    const held = gate();
    const a = turns.run(1, async () => {
      log.push('1 start');
      await held.opened;
    });
    const b = turns.run(2, async () => {
      log.push('2');
    });
    await b;
    await tick();
    expect(log).toEqual(['1 start', '2']);
    expect(turns.busy).toBe(1);
    held.open();
    await a;
  });

  it('a failing task rejects its caller only; the next task of the partition still runs', async () => {
    const turns = new PartitionTurns();
    const failed = turns.run(0, () => Promise.reject(new Error('boom')));
    const next = turns.run(0, () => Promise.resolve('ran'));
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ran');
  });
});
