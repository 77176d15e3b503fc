import type { Consumer } from 'kafkajs';
import type { DeferredRest } from './consumer.types';

/**
 * Parks partitions whose next record is not due (`HandlerResult.deferFrom`): pause, seek back to
 * the deferred offset, resume at `until`. Other partitions keep flowing meanwhile.
 */
export class PartitionParking {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly consumer: Pick<Consumer, 'pause' | 'seek' | 'resume'>,
    /** Resuming is skipped once the runner stops. */
    private readonly isRunning: () => boolean,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Read the partition again from `offset` at `until`. The seek makes kafkajs drop what it already
   * fetched; the timer resumes even if the partition moved to another member meanwhile (resuming
   * an unassigned partition does nothing). Parking a parked partition again replaces its timer.
   */
  park(topic: string, partition: number, d: DeferredRest): void {
    const id = `${topic}|${partition}`;
    clearTimeout(this.timers.get(id));
    this.consumer.pause([{ topic, partitions: [partition] }]);
    this.consumer.seek({ topic, partition, offset: d.offset });
    const timer = setTimeout(
      () => {
        this.timers.delete(id);
        if (this.isRunning()) this.consumer.resume([{ topic, partitions: [partition] }]);
      },
      Math.max(0, d.until - this.now()),
    );
    timer.unref();
    this.timers.set(id, timer);
  }

  /** How many partitions wait for their timer. */
  get parked(): number {
    return this.timers.size;
  }

  /** Cancels every timer (on stop). */
  clear(): void {
    this.timers.forEach((t) => clearTimeout(t));
    this.timers.clear();
  }
}
