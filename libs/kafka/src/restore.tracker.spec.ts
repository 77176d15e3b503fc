import { RestoreTracker } from './restore.tracker';

describe('RestoreTracker', () => {
  it('restores a partition once every state topic reached its target', () => {
    const t = new RestoreTracker(['a', 'b']);
    const gen = t.assign([0, 1]);
    expect(t.allRestored()).toBe(false);
    t.setTarget(gen, 'a', 0, 0n, 5n);
    t.setTarget(gen, 'b', 0, 0n, 0n); // empty
    expect(t.isRestored(0)).toBe(false);
    t.advance('a', 0, 3n);
    expect(t.isRestored(0)).toBe(false);
    t.advance('a', 0, 5n);
    expect(t.isRestored(0)).toBe(true);
    expect(t.allRestored()).toBe(false);
    t.setTarget(gen, 'a', 1, 7n, 7n);
    t.setTarget(gen, 'b', 1, 2n, 2n);
    expect(t.allRestored()).toBe(true);
  });

  it('counts positions read before the target was known', () => {
    const t = new RestoreTracker(['a']);
    const gen = t.assign([3]);
    t.advance('a', 3, 10n);
    t.setTarget(gen, 'a', 3, 0n, 10n);
    expect(t.isRestored(3)).toBe(true);
  });

  it('ignores targets of an older assignment and starts over on a new one', () => {
    const t = new RestoreTracker(['a']);
    const old = t.assign([0]);
    t.assign([0, 1]);
    t.setTarget(old, 'a', 0, 0n, 0n);
    expect(t.isRestored(0)).toBe(false);
    expect(t.assigned()).toEqual([0, 1]);
  });

  it('is restored at once without state topics, but only after joining', () => {
    const t = new RestoreTracker([]);
    expect(t.allRestored()).toBe(false);
    t.assign([0, 1]);
    expect(t.allRestored()).toBe(true);
  });
});
