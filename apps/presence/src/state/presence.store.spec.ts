import { PresenceStore } from './presence.store';
import { emptyUser } from './user-presence.machine';

describe('presence store', () => {
  it('keeps the state of partitions kept by a new assignment and drops the others', () => {
    const store = new PresenceStore();
    store.assign([0, 1, 2], 1000);
    store.get(1)!.users.set('demo:bob', emptyUser('demo', 'bob'));
    store.assign([1, 3], 2000);
    expect(store.owned().map((p) => p.partition)).toEqual([1, 3]);
    expect(store.get(1)!.users.has('demo:bob')).toBe(true);
    // A kept partition keeps the moment it was first watched; a new one starts now.
    expect(store.get(1)!.watchingSince).toBe(1000);
    expect(store.get(3)!.watchingSince).toBe(2000);
    expect(store.get(0)).toBeUndefined();
    expect(store.userCount()).toBe(1);
  });

  it('runs the changes of one partition one at a time, even when one fails', async () => {
    const store = new PresenceStore();
    store.assign([0], 0);
    const part = store.get(0)!;
    const order: string[] = [];
    const slow = part.exclusive(async () => {
      order.push('a:start');
      await new Promise((r) => setTimeout(r, 20));
      order.push('a:end');
      throw new Error('boom');
    });
    const next = part.exclusive(async () => {
      order.push('b');
      return 42;
    });
    await expect(slow).rejects.toThrow('boom');
    await expect(next).resolves.toBe(42);
    expect(order).toEqual(['a:start', 'a:end', 'b']);
  });
});
