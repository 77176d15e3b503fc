import type { UserPresence } from './user-presence.machine';

/**
 * The users of one assigned partition. Every change to them (events, changelog records, the timer
 * sweep) runs through `exclusive`, one at a time, so that two of them never compute the next
 * version of a user from the same base.
 */
export class PartitionState {
  readonly users = new Map<string, UserPresence>();
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly partition: number,
    /** Epoch ms this instance took the partition: heartbeat timers run at least from here. */
    readonly watchingSince: number,
  ) {}

  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

/** Presence state per partition of this instance's current assignment. */
export class PresenceStore {
  private readonly partitions = new Map<number, PartitionState>();

  /** A new assignment: partitions kept keep their state, the others are dropped. */
  assign(partitions: number[], now: number): void {
    const keep = new Set(partitions);
    for (const p of this.partitions.keys()) if (!keep.has(p)) this.partitions.delete(p);
    for (const p of partitions) {
      if (!this.partitions.has(p)) this.partitions.set(p, new PartitionState(p, now));
    }
  }

  get(partition: number): PartitionState | undefined {
    return this.partitions.get(partition);
  }

  owned(): PartitionState[] {
    return [...this.partitions.values()];
  }

  userCount(): number {
    let n = 0;
    for (const p of this.partitions.values()) n += p.users.size;
    return n;
  }
}
