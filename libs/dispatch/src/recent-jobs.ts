import type { OutboundRecord } from '@app/kafka';

interface Entry {
  attempt: number;
  terminal: boolean;
  records: OutboundRecord[];
}

export type Recall =
  /** Seen this very attempt: produce these records again, do not send. */
  | { kind: 'replay'; records: OutboundRecord[] }
  /** An older copy of a job that has since moved on (finished, or retried later): drop it. */
  | { kind: 'stale' }
  | { kind: 'new' };

/**
 * A bounded memory, per input partition, of the jobs this process has already sent and what came
 * of it (the records produced). A batch redelivered after a failed commit or a rebalance that gave
 * the partition back finds its jobs here and re-produces their records instead of sending again.
 * Request and retry topics share the key space, so partition N of both shares one memory.
 * Oldest entries go first once a partition holds `perPartition` jobs.
 */
export class RecentJobs {
  private readonly partitions = new Map<number, Map<string, Entry>>();

  constructor(private readonly perPartition = 50_000) {}

  recall(partition: number, jobId: string, attempt: number): Recall {
    const e = this.partitions.get(partition)?.get(jobId);
    if (!e) return { kind: 'new' };
    if (e.attempt === attempt) return { kind: 'replay', records: e.records };
    if (e.terminal || attempt < e.attempt) return { kind: 'stale' };
    return { kind: 'new' };
  }

  remember(
    partition: number,
    jobId: string,
    attempt: number,
    terminal: boolean,
    records: OutboundRecord[],
  ): void {
    let m = this.partitions.get(partition);
    if (!m) this.partitions.set(partition, (m = new Map<string, Entry>()));
    m.delete(jobId); // re-insert at the end: Map keeps insertion order, the front is the oldest
    m.set(jobId, { attempt, terminal, records });
    while (m.size > this.perPartition) m.delete(m.keys().next().value as string);
  }

  size(partition?: number): number {
    if (partition !== undefined) return this.partitions.get(partition)?.size ?? 0;
    let n = 0;
    for (const m of this.partitions.values()) n += m.size;
    return n;
  }
}
