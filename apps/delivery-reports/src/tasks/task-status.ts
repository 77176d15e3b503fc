import type { TaskState } from '@app/contracts';

/** One partition's newest checkpoint of a task, as stored. */
export interface TaskPartitionRow {
  partition: number;
  partitions: number;
  records: number | null;
  state: TaskState;
  targeted: number;
  decided: number;
  revoked: number | null;
  revokeDone: boolean | null;
}

/** Outcomes of the task's pushes by status (one per device, its final status). */
export type OutcomeCounts = Partial<Record<string, number>>;

export interface TaskStatus {
  taskId: string;
  state: TaskState;
  partitions: { done: number; total: number };
  targeted: number;
  decided: number;
  sent: number;
  suppressed: number;
  failed: number;
  revoke?: { users: number; done: boolean };
}

const ENDED: ReadonlySet<TaskState> = new Set(['done', 'stopped']);

/**
 * The task's state over its partitions: `stopped` once any partition stopped it (a stop reaches
 * every partition), `done` when every partition that got a record finished, `scheduled` while every
 * partition heard of waits for `sendAt`, else `running`. Counts add up over the partitions; the
 * push counts are the outcomes': `sent` delivered, `failed` every refusal of a provider or the
 * platform (invalid token, rejected, expired, failed), `suppressed` the rules' decisions.
 */
export function taskStatus(
  taskId: string,
  rows: readonly TaskPartitionRow[],
  outcomes: OutcomeCounts,
): TaskStatus {
  const total = rows.reduce((n, r) => Math.max(n, r.records ?? r.partitions), 0);
  const done = rows.filter((r) => ENDED.has(r.state)).length;
  let state: TaskState = 'running';
  if (rows.some((r) => r.state === 'stopped')) state = 'stopped';
  else if (done >= total) state = 'done';
  else if (rows.every((r) => r.state === 'scheduled')) state = 'scheduled';
  const n = (s: string) => outcomes[s] ?? 0;
  const revokes = rows.filter((r) => r.revoked !== null);
  return {
    taskId,
    state,
    partitions: { done, total },
    targeted: rows.reduce((s, r) => s + r.targeted, 0),
    decided: rows.reduce((s, r) => s + r.decided, 0),
    sent: n('delivered'),
    suppressed: n('suppressed'),
    failed: n('invalid_token') + n('rejected') + n('expired') + n('failed'),
    ...(revokes.length
      ? {
          revoke: {
            users: revokes.reduce((s, r) => s + (r.revoked ?? 0), 0),
            done: revokes.length >= total && revokes.every((r) => r.revokeDone === true),
          },
        }
      : {}),
  };
}
