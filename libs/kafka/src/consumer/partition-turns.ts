/**
 * Runs tasks one after the other per partition number, different numbers at once. A co-partitioned
 * group's handlers share the state of partition N across its input topics (decide: a user's badges
 * from `push.intent.v1`, `push.task.v1` and `im.conversation.read.v1`), and kafkajs only keeps the
 * batches of one topic-partition in order: with partitions consumed concurrently, batches of
 * partition N of two input topics would otherwise be decided from the same state and commit
 * conflicting changes.
 */
export class PartitionTurns {
  private readonly tails = new Map<number, Promise<void>>();

  run<T>(partition: number, task: () => Promise<T>): Promise<T> {
    const before = this.tails.get(partition);
    const result = before ? before.then(task) : task();
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(partition, tail);
    void tail.then(() => {
      if (this.tails.get(partition) === tail) this.tails.delete(partition);
    });
    return result;
  }

  /** Partition numbers with a task running or waiting. */
  get busy(): number {
    return this.tails.size;
  }
}
