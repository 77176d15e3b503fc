import { Injectable } from '@nestjs/common';
import type { TaskProgress } from '@app/contracts';
import { DataSource } from 'typeorm';
import { qualified, reportsSchemaOf } from '../database/reports-schema';
import type { OutcomeCounts, TaskPartitionRow } from './task-status';

/** Push tasks' checkpoints in PostgreSQL (the newest `seq` per partition wins) and their counts. */
@Injectable()
export class TaskStore {
  private readonly tasks: string;
  private readonly outcomes: string;

  constructor(private readonly ds: DataSource) {
    const s = reportsSchemaOf(ds);
    this.tasks = qualified(s, 'push_tasks');
    this.outcomes = qualified(s, 'outcomes');
  }

  /** Upserts the checkpoints (the newest of each partition in the batch), never backwards. */
  async store(list: readonly TaskProgress[]): Promise<void> {
    const newest = new Map<string, TaskProgress>();
    for (const p of list) {
      const k = `${p.appId}\n${p.taskId}\n${p.partition}`;
      if ((newest.get(k)?.seq ?? -1) < p.seq) newest.set(k, p);
    }
    if (!newest.size) return;
    const rows = [...newest.values()].sort((x, y) =>
      `${x.taskId}:${x.partition}`.localeCompare(`${y.taskId}:${y.partition}`),
    );
    const col = <T>(f: (p: TaskProgress) => T) => rows.map(f);
    await this.ds.query(
      `INSERT INTO ${this.tasks} AS t (app_id, task_id, partition, partitions, records, state,
         targeted, decided, revoked, revoke_done, seq, updated_at)
       SELECT * FROM unnest($1::varchar[], $2::uuid[], $3::int[], $4::int[], $5::int[],
         $6::varchar[], $7::bigint[], $8::bigint[], $9::bigint[], $10::boolean[], $11::bigint[],
         $12::timestamptz[])
       ON CONFLICT (app_id, task_id, partition) DO UPDATE SET
         partitions = EXCLUDED.partitions, records = EXCLUDED.records, state = EXCLUDED.state,
         targeted = EXCLUDED.targeted, decided = EXCLUDED.decided, revoked = EXCLUDED.revoked,
         revoke_done = EXCLUDED.revoke_done, seq = EXCLUDED.seq, updated_at = EXCLUDED.updated_at
       WHERE t.seq < EXCLUDED.seq`,
      [
        col((p) => p.appId),
        col((p) => p.taskId),
        col((p) => p.partition),
        col((p) => p.partitions),
        col((p) => p.records ?? null),
        col((p) => p.state),
        col((p) => p.targeted),
        col((p) => p.decided),
        col((p) => p.revoke?.users ?? null),
        col((p) => p.revoke?.done ?? null),
        col((p) => p.seq),
        col((p) => p.updatedAt),
      ],
    );
  }

  async partitionsOf(appId: string, taskId: string): Promise<TaskPartitionRow[]> {
    const rows: Record<string, unknown>[] = await this.ds.query(
      `SELECT partition, partitions, records, state, targeted::float8 AS targeted,
              decided::float8 AS decided, revoked::float8 AS revoked, revoke_done
         FROM ${this.tasks} WHERE app_id = $1 AND task_id = $2 ORDER BY partition`,
      [appId, taskId],
    );
    return rows.map((r) => ({
      partition: r.partition as number,
      partitions: r.partitions as number,
      records: r.records as number | null,
      state: r.state as TaskPartitionRow['state'],
      targeted: r.targeted as number,
      decided: r.decided as number,
      revoked: r.revoked as number | null,
      revokeDone: r.revoke_done as boolean | null,
    }));
  }

  /**
   * The task's pushes by final status: one per device (a revoke's replacement to a device that
   * got the push is not counted twice), from the outcomes stored under `task:<taskId>`.
   */
  async outcomeCounts(appId: string, taskId: string): Promise<OutcomeCounts> {
    const rows: { status: string; n: number }[] = await this.ds.query(
      `SELECT status, count(DISTINCT (user_id, device_id))::int AS n
         FROM ${this.outcomes} WHERE app_id = $1 AND message_id = $2 GROUP BY status`,
      [appId, `task:${taskId}`],
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }
}
