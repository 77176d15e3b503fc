/**
 * Tracks, per partition number, whether the state topics have been read up to where they stood
 * when the partition was assigned. Input records of a partition wait until it is restored.
 */
export class RestoreTracker {
  /** partition → state topic → offset to reach (exclusive), undefined while still unknown */
  private targets = new Map<number, Map<string, bigint | undefined>>();
  private positions = new Map<string, bigint>();
  private restored = new Set<number>();
  private generation = 0;
  private joined = false;

  constructor(private readonly stateTopics: string[]) {}

  /** A new assignment: every assigned partition restores again (kafkajs re-reads them from the start). */
  assign(partitions: number[]): number {
    this.generation++;
    this.joined = true;
    this.targets = new Map(
      partitions.map((p) => [p, new Map(this.stateTopics.map((t) => [t, undefined]))]),
    );
    this.positions.clear();
    this.restored.clear();
    if (this.stateTopics.length === 0) partitions.forEach((p) => this.restored.add(p));
    return this.generation;
  }

  /** Where a state partition stood at assignment; an empty one (low == high) has nothing to read. */
  setTarget(generation: number, topic: string, partition: number, low: bigint, high: bigint): void {
    if (generation !== this.generation) return;
    this.targets.get(partition)?.set(topic, high > low ? high : 0n);
    this.check(partition);
  }

  /** After a state batch (control-record-only batches included): the next offset to read. */
  advance(topic: string, partition: number, nextOffset: bigint): void {
    const key = `${topic}:${partition}`;
    if ((this.positions.get(key) ?? -1n) < nextOffset) this.positions.set(key, nextOffset);
    this.check(partition);
  }

  isRestored(partition: number): boolean {
    return this.restored.has(partition);
  }

  /** True once the member has joined and every assigned partition is restored. */
  allRestored(): boolean {
    return this.joined && [...this.targets.keys()].every((p) => this.restored.has(p));
  }

  assigned(): number[] {
    return [...this.targets.keys()];
  }

  private check(partition: number): void {
    const targets = this.targets.get(partition);
    if (!targets || this.restored.has(partition)) return;
    for (const [topic, target] of targets) {
      if (target === undefined) return;
      if (target > 0n && (this.positions.get(`${topic}:${partition}`) ?? 0n) < target) return;
    }
    this.restored.add(partition);
  }
}
