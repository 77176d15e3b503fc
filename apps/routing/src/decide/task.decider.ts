import {
  TOPICS,
  taskMessageId,
  userKey,
  type ImMessageSent,
  type PushTask,
  type RecallIntent,
  type TaskControl,
  type TaskProgress,
  parseUserKey,
} from '@app/contracts';
import { outbound, type OutboundRecord } from '@app/kafka';
import type { RecordContext } from '@app/observability';
import {
  matchesAudience,
  nextSliceAt,
  sliceQuota,
  walkSlice,
  type WalkSlice,
} from '@app/routing-rules';
import type { DecideState, UserBadges } from './decide.state';
import {
  decideIntents,
  type Caused,
  type DecideOptions,
  type DecideTally,
  type TaskPushIntent,
} from './intent.decider';
import { messageDigest } from './job-id.util';

/** Seconds of the task's rate one slice takes at most (a slice per partition per second). */
export const TASK_SLICE_SECONDS = 1;
/** Users one slice looks at at most (a tag push over many users without the tag). */
export const TASK_MAX_SCAN = 20_000;

/**
 * What decide keeps of the push tasks of its partitions: the checkpoints (restored from
 * routing.task-progress.v1, then its own commits), when each walk may take its next slice (memory
 * only: after a restart a walk goes on at once) and the sorted users of listed audiences.
 */
export class TaskBook {
  readonly progress = new Map<string, TaskProgress>();
  readonly nextAt = new Map<string, number>();
  readonly listed = new Map<string, string[]>();

  clear(): void {
    this.progress.clear();
    this.nextAt.clear();
    this.listed.clear();
  }

  /** A checkpoint from the changelog (restore, or our own write coming back): never backwards. */
  apply(key: string, value: TaskProgress | null): void {
    if (value === null) {
      this.progress.delete(key);
      return;
    }
    const current = this.progress.get(key);
    if (!current || current.seq < value.seq) this.progress.set(key, value);
  }

  commit(list: readonly TaskProgress[], nextAt: ReadonlyMap<string, number>): void {
    for (const p of list) {
      const key = progressKey(p.taskId, p.partition);
      this.apply(key, p);
      if (p.state === 'done' || p.state === 'stopped') {
        this.listed.delete(key);
        this.nextAt.delete(key);
      }
    }
    for (const [k, at] of nextAt) {
      if (this.progress.get(k)?.state === 'running') this.nextAt.set(k, at);
    }
  }
}

export const progressKey = (taskId: string, partition: number): string => `${taskId}:${partition}`;

export type TaskDecideOptions = Omit<DecideOptions, 'now'> & {
  now: Date;
  partition: number;
  sliceSeconds?: number;
  maxScan?: number;
};

export interface TaskTurn {
  records: OutboundRecord[];
  badges: Map<string, UserBadges>;
  progress: TaskProgress[];
  nextAt: Map<string, number>;
  tally: DecideTally;
  /** The first task record not finished and when the partition should be read again from it. */
  deferFrom?: { offset: string; until: number };
  /** Records of apps not in the apps file (before `deferFrom`). */
  unknownApp: Caused<PushTask>[];
}

/** The message routing renders for every user of a task (c2c from `from`, default `system`). */
export function taskMessage(t: PushTask): ImMessageSent {
  const from = t.from ?? 'system';
  return {
    appId: t.appId,
    messageId: taskMessageId(t.taskId),
    sentAt: t.options.sendAt ?? t.createdAt,
    conversation: { type: 'c2c', id: from },
    sender: { userId: from, nickname: t.fromNickname ?? null },
    recipients: null,
    elements: [{ type: 'text', text: t.offlinePush.desc ?? '' }],
    offlinePush: t.offlinePush,
    ttlSeconds: t.ttlSeconds,
  };
}

/** A slice of one task: what the walk took and where it stood before. */
interface Plan {
  offset: string;
  task: PushTask;
  prev: TaskProgress | undefined;
  slice: WalkSlice;
  /** Index of its first intent in the turn's list. */
  start: number;
}

/** Where a turn stands while its task records are looked at, in order. */
class Turn {
  readonly intents: Caused<TaskPushIntent>[] = [];
  readonly plans: Plan[] = [];
  readonly progress: TaskProgress[] = [];
  readonly unknownApp: Caused<PushTask>[] = [];
  firstOpen: string | undefined;
  due = Number.POSITIVE_INFINITY;

  open(offset: string, until: number): void {
    this.firstOpen ??= offset;
    this.due = Math.min(this.due, until);
  }
}

/**
 * One turn of the push tasks of a partition (the records read from the first task not finished):
 * each running task gets a slice of its walk, all slices decided in one batch (one transaction,
 * the output budget shared), each task's checkpoint written with its slice. Finished tasks are
 * skipped; a scheduled one waits for `sendAt`; a stopped one (push.task-control.v1) ends.
 */
export function decideTasks(
  records: ReadonlyArray<Caused<PushTask> & { offset: string }>,
  state: DecideState,
  book: TaskBook,
  opts: TaskDecideOptions,
): TaskTurn {
  const turn = new Turn();
  const nowMs = opts.now.getTime();
  for (const r of records) {
    const t = r.value;
    if (!opts.app(t.appId)) {
      if (turn.firstOpen === undefined) turn.unknownApp.push(r);
      continue;
    }
    const key = progressKey(t.taskId, opts.partition);
    const prev = book.progress.get(key);
    if (prev && (prev.state === 'done' || prev.state === 'stopped')) continue;
    const sendAt = t.options.sendAt ? Date.parse(t.options.sendAt) : 0;
    if (sendAt > nowMs) {
      if (!prev) turn.progress.push(checkpoint(t, opts, undefined, { state: 'scheduled' }));
      turn.open(r.offset, sendAt);
      continue;
    }
    const at = book.nextAt.get(key) ?? 0;
    if (at > nowMs) {
      turn.open(r.offset, at);
      continue;
    }
    plan(turn, r, prev, state, book, opts);
  }
  return finishTurn(turn, state, opts);
}

/** Takes the task's next slice of users into the turn. */
function plan(
  turn: Turn,
  r: Caused<PushTask> & { offset: string },
  prev: TaskProgress | undefined,
  state: DecideState,
  book: TaskBook,
  opts: TaskDecideOptions,
): void {
  const t = r.value;
  const keys = audienceKeys(t, state, book, opts.partition);
  const quota = sliceQuota(t.options.rate, t.partitions, opts.sliceSeconds ?? TASK_SLICE_SECONDS);
  const slice = walkSlice(keys, prev?.cursor ?? null, quota, opts.maxScan ?? TASK_MAX_SCAN, (k) =>
    matchesAudience(t.audience, state.tokens.get(k)),
  );
  const message = taskMessage(t);
  const task = { badge: t.options.badge, includeOnline: t.options.includeOnline };
  turn.plans.push({ offset: r.offset, task: t, prev, slice, start: turn.intents.length });
  const fanoutAt = opts.now.toISOString();
  for (const k of slice.taken) {
    const { appId, userId } = parseUserKey(k);
    turn.intents.push({
      value: { appId, userId, message, fanoutAt, task },
      context: r.context,
    });
  }
}

/** The users a task walks in this partition, sorted: its listed users, or the app's users. */
function audienceKeys(
  t: PushTask,
  state: DecideState,
  book: TaskBook,
  partition: number,
): readonly string[] {
  if (!('userIds' in t.audience)) return state.usersOf(partition, t.appId);
  const key = progressKey(t.taskId, partition);
  let keys = book.listed.get(key);
  if (!keys) {
    keys = [...new Set(t.audience.userIds.map((userId) => userKey({ appId: t.appId, userId })))];
    keys.sort();
    book.listed.set(key, keys);
  }
  return keys;
}

/** Decides the slices together and writes each task's checkpoint as far as it got. */
function finishTurn(turn: Turn, state: DecideState, opts: TaskDecideOptions): TaskTurn {
  const result = decideIntents(turn.intents, state, opts);
  const nextAt = new Map<string, number>();
  const nowMs = opts.now.getTime();
  for (const p of turn.plans) {
    const { progress, handled, cut } = sliceCheckpoint(p, result.handled, opts);
    turn.progress.push(progress);
    if (progress.state === 'done') continue;
    const at = cut ? nowMs : nextSliceAt(nowMs, handled, p.task.options.rate, p.task.partitions);
    nextAt.set(progressKey(p.task.taskId, opts.partition), at);
    turn.open(p.offset, at);
  }
  const records = [...result.records, ...turn.progress.map((p) => progressRecord(p))];
  return {
    records,
    badges: result.badges,
    progress: turn.progress,
    nextAt,
    tally: result.tally,
    deferFrom:
      turn.firstOpen === undefined ? undefined : { offset: turn.firstOpen, until: turn.due },
    unknownApp: turn.unknownApp,
  };
}

/** A task's checkpoint as far as its slice was decided (the output budget may cut it). */
function sliceCheckpoint(p: Plan, handledAll: number, opts: TaskDecideOptions) {
  const handled = Math.min(p.slice.taken.length, Math.max(0, handledAll - p.start));
  const cut = handled < p.slice.taken.length;
  const cursor = cut ? (p.slice.taken[handled - 1] ?? p.prev?.cursor ?? null) : p.slice.cursor;
  const done = p.slice.done && !cut;
  const a = p.task.audience;
  // A listed audience is known whole: every listed user of the partition is targeted.
  const targeted =
    'userIds' in a
      ? (p.prev?.targeted ?? new Set(a.userIds).size)
      : (p.prev?.targeted ?? 0) + handled;
  const progress = checkpoint(p.task, opts, p.prev, {
    state: done ? 'done' : 'running',
    cursor,
    targeted,
    decided: (p.prev?.decided ?? 0) + handled,
  });
  return { progress, handled, cut };
}

/** The next checkpoint of a task in this partition. */
export function checkpoint(
  t: Pick<PushTask, 'appId' | 'taskId' | 'partitions'> & { records?: number },
  opts: { partition: number; now: Date },
  prev: TaskProgress | undefined,
  change: Partial<TaskProgress>,
): TaskProgress {
  return {
    appId: t.appId,
    taskId: t.taskId,
    partition: opts.partition,
    partitions: t.partitions,
    ...((t.records ?? prev?.records) !== undefined ? { records: t.records ?? prev?.records } : {}),
    state: 'running',
    cursor: prev?.cursor ?? null,
    targeted: prev?.targeted ?? 0,
    decided: prev?.decided ?? 0,
    ...(prev?.revoke ? { revoke: prev.revoke } : {}),
    ...change,
    seq: (prev?.seq ?? 0) + 1,
    updatedAt: opts.now.toISOString(),
  };
}

/** A checkpoint on its own partition (the input's), keyed `taskId:partition`. */
export const progressRecord = (p: TaskProgress, context?: RecordContext): OutboundRecord =>
  outbound(TOPICS.routingTaskProgress, p, { partition: p.partition, context });

export interface ControlTurn {
  records: OutboundRecord[];
  badges: Map<string, UserBadges>;
  progress: TaskProgress[];
  deferFrom?: { offset: string; until: number };
  unknownApp: Caused<TaskControl>[];
}

/**
 * Stop (and revoke) controls of a partition: a stop writes the task's checkpoint `stopped` (the
 * next turn of the task ends it); a revoke then walks the partition's users of the app, a slice a
 * turn, and recalls the task's push from each user whose push memory holds it (a replacement or a
 * silent push, exactly like a recalled message).
 */
export function decideControls(
  records: ReadonlyArray<Caused<TaskControl> & { offset: string }>,
  state: DecideState,
  book: TaskBook,
  opts: TaskDecideOptions,
): ControlTurn {
  const progress: TaskProgress[] = [];
  const unknownApp: Caused<TaskControl>[] = [];
  const intents: Caused<RecallIntent>[] = [];
  const revokes: Revoke[] = [];
  for (const r of records) {
    const c = r.value;
    if (!opts.app(c.appId)) {
      if (revokes.length === 0) unknownApp.push(r);
      continue;
    }
    const prev = book.progress.get(progressKey(c.taskId, opts.partition));
    const ended = prev?.state === 'stopped' || prev?.state === 'done';
    if (!c.revoke) {
      if (!ended) progress.push(checkpoint(c, opts, prev, { state: 'stopped' }));
      continue;
    }
    if (prev?.revoke?.done) continue;
    const slice = revokeSlice(c, prev, state, opts);
    revokes.push({ offset: r.offset, c, prev, slice, start: intents.length });
    for (const k of slice.taken) {
      intents.push({ value: recallIntent(c, k, opts.now), context: r.context });
    }
  }
  const result = decideIntents(intents, state, opts);
  let open: string | undefined;
  for (const v of revokes) {
    const p = revokeCheckpoint(v, result.handled, opts);
    progress.push(p);
    if (!p.revoke?.done) open ??= v.offset;
  }
  return {
    records: [...result.records, ...progress.map((p) => progressRecord(p))],
    badges: result.badges,
    progress,
    deferFrom: open === undefined ? undefined : { offset: open, until: opts.now.getTime() },
    unknownApp,
  };
}

interface Revoke {
  offset: string;
  c: TaskControl;
  prev: TaskProgress | undefined;
  slice: WalkSlice;
  start: number;
}

/** A revoke's checkpoint as far as its slice was decided (the output budget may cut it). */
function revokeCheckpoint(v: Revoke, handledAll: number, opts: TaskDecideOptions): TaskProgress {
  const handled = Math.min(v.slice.taken.length, Math.max(0, handledAll - v.start));
  const cut = handled < v.slice.taken.length;
  const cursor = cut
    ? (v.slice.taken[handled - 1] ?? v.prev?.revoke?.cursor ?? null)
    : v.slice.cursor;
  const revoke = {
    cursor,
    done: v.slice.done && !cut,
    users: (v.prev?.revoke?.users ?? 0) + handled,
  };
  return checkpoint(v.c, opts, v.prev, {
    state: v.prev?.state === 'done' ? 'done' : 'stopped',
    revoke,
  });
}

/** The users of the app in the partition whose push memory holds the task, from the cursor. */
function revokeSlice(
  c: TaskControl,
  prev: TaskProgress | undefined,
  state: DecideState,
  opts: TaskDecideOptions,
): WalkSlice {
  const digest = messageDigest(taskMessageId(c.taskId));
  const keys = state.usersOf(opts.partition, c.appId);
  return walkSlice(keys, prev?.revoke?.cursor ?? null, 2000, opts.maxScan ?? TASK_MAX_SCAN, (k) =>
    (state.badges.get(k)?.pushes ?? []).some((e) => e.d === digest),
  );
}

function recallIntent(c: TaskControl, key: string, now: Date): RecallIntent {
  const { appId, userId } = parseUserKey(key);
  return {
    kind: 'recall',
    appId,
    userId,
    recall: {
      messageId: taskMessageId(c.taskId),
      conversation: { type: 'c2c', id: 'system' },
      recalledAt: now.toISOString(),
    },
    fanoutAt: now.toISOString(),
  };
}
