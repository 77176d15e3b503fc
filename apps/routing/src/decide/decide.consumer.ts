import {
  TOPICS,
  type BadgeState,
  type ImConversationRead,
  type PresenceUserState,
  type PushIntentEvent,
  type PushOutcome,
  type PushTask,
  type TaskControl,
  type TaskProgress,
  isRecallIntent,
  type TokenUserDevices,
  userKey,
} from '@app/contracts';
import { Inject } from '@nestjs/common';
import { AppsRegistry } from '@app/config';
import {
  KafkaConsumer,
  OnAssigned,
  OnBatch,
  OnState,
  type ConsumedRecord,
  type HandlerResult,
  type KafkaBatchContext,
  type OutboundRecord,
} from '@app/kafka';
import { DECIDE_GROUP } from '../routing.groups';
import { metricApp, routingMetrics } from '../routing.metrics';
import { DecideState } from './decide.state';
import { decideIntents, type DecideTally } from './intent.decider';
import { decideReads, type ReadSyncTally } from './read-sync.decider';
import { decideControls, decideTasks, TaskBook, type TaskDecideOptions } from './task.decider';

export interface DecideOptions {
  dedupeWindow: number;
  /** Pushed messages younger than this are remembered beyond `dedupeWindow` (see DecideOptions). */
  dedupeSeconds?: number;
  clock?: () => Date;
  /** Output per transaction, estimated (see DecideOptions.maxOutputBytes). */
  maxOutputBytes?: number;
  /** Per-user memory of pushed chat messages (recall, read sync): entries and seconds. */
  pushMemory?: number;
  pushMemorySeconds?: number;
  /** At most one read-sync push per user per this many seconds. */
  readSyncSeconds?: number;
  /** Push tasks: users one slice looks at at most (tests make it small). */
  taskMaxScan?: number;
}

export const DECIDE_OPTIONS = Symbol('DECIDE_OPTIONS');

/** Output per transaction (estimated), keeping transactions short and memory bounded. */
const DEFAULT_MAX_OUTPUT_BYTES = 512 * 1024;
/** The push memory's defaults (the settings' defaults, for consumers built outside the module). */
const DEFAULT_PUSH_MEMORY = 16;
const DEFAULT_PUSH_MEMORY_SECONDS = 7 * 86400;
const DEFAULT_READ_SYNC_SECONDS = 10;

const unknownApp = <T extends { appId: string }>(record: ConsumedRecord<T>) => ({
  record,
  code: 'UNKNOWN_APP',
  message: `app ${record.value.appId} is not configured in PUSH_APPS_FILE`,
});

/** A state record's user: its key (a tombstone always has one), else the key of its value. */
const keyOf = (r: ConsumedRecord<{ appId: string; userId: string }, 'compact'>): string =>
  r.key ?? (r.value === null ? '' : userKey(r.value));

/**
 * The decide stage: partition N of push.intent.v1, presence.user-state.v1, token.user-devices.v1
 * and routing.badge-state.v1 on one instance; intents decided against the state in memory, and
 * requests, outcomes, badge changelog and input offsets committed in one transaction per batch.
 */
@KafkaConsumer()
export class DecideConsumer {
  readonly state = new DecideState();
  /** Push tasks' checkpoints and pacing for the partitions held. */
  readonly tasks = new TaskBook();
  private readonly clock: () => Date;

  constructor(
    private readonly apps: AppsRegistry,
    @Inject(DECIDE_OPTIONS) private readonly opts: DecideOptions,
  ) {
    this.clock = opts.clock ?? (() => new Date());
  }

  /** The push memory's limits (ROUTING_PUSH_MEMORY, ROUTING_PUSH_MEMORY_SECONDS). */
  private get memory() {
    return {
      count: this.opts.pushMemory ?? DEFAULT_PUSH_MEMORY,
      seconds: this.opts.pushMemorySeconds ?? DEFAULT_PUSH_MEMORY_SECONDS,
    };
  }

  /** Every assignment re-reads the state topics from the start: begin from nothing. */
  @OnAssigned(DECIDE_GROUP)
  assigned(): void {
    this.state.clear();
    this.tasks.clear();
  }

  @OnState(DECIDE_GROUP, TOPICS.presenceUserState)
  presence(rs: ConsumedRecord<PresenceUserState, 'compact'>[]): void {
    for (const r of rs) this.state.applyPresence(keyOf(r), r.value);
  }

  @OnState(DECIDE_GROUP, TOPICS.tokenUserDevices)
  tokens(rs: ConsumedRecord<TokenUserDevices, 'compact'>[]): void {
    for (const r of rs) this.state.applyTokens(keyOf(r), r.value, r.partition);
  }

  // Our own badge and task-progress writes read back: already applied on commit, by seq.
  @OnState(DECIDE_GROUP, TOPICS.routingBadgeState, { echoesApplied: true })
  badges(rs: ConsumedRecord<BadgeState, 'compact'>[]): void {
    for (const r of rs) this.state.applyBadgeRecord(keyOf(r), r.value);
  }

  @OnState(DECIDE_GROUP, TOPICS.routingTaskProgress, { echoesApplied: true })
  taskProgress(rs: ConsumedRecord<TaskProgress, 'compact'>[]): void {
    for (const r of rs) this.tasks.apply(r.key ?? '', r.value);
  }

  /**
   * Push tasks (push.task.v1, one record per partition): each running task of the partition gets
   * a slice of its walk over the partition's users per turn, decided like messages, with its
   * checkpoint in the same transaction; the partition is read again from the first unfinished
   * task when the next slice is due (see docs/routing.md, "Push tasks").
   */
  @OnBatch(DECIDE_GROUP, TOPICS.pushTask)
  pushTasks(rs: ConsumedRecord<PushTask>[], ctx: KafkaBatchContext): HandlerResult {
    const turn = decideTasks(rs, this.state, this.tasks, this.taskOptions(ctx.partition));
    return {
      records: turn.records,
      rejected: turn.unknownApp.map((r) => unknownApp(r as ConsumedRecord<PushTask>)),
      deferFrom: turn.deferFrom,
      onCommit: () => {
        this.state.commitBadges(turn.badges);
        this.tasks.commit(turn.progress, turn.nextAt);
        countTally(turn.tally);
      },
    };
  }

  /** Stop and revoke of push tasks (push.task-control.v1, one record per partition). */
  @OnBatch(DECIDE_GROUP, TOPICS.pushTaskControl)
  taskControls(rs: ConsumedRecord<TaskControl>[], ctx: KafkaBatchContext): HandlerResult {
    const turn = decideControls(rs, this.state, this.tasks, this.taskOptions(ctx.partition));
    return {
      records: turn.records,
      rejected: turn.unknownApp.map((r) => unknownApp(r as ConsumedRecord<TaskControl>)),
      deferFrom: turn.deferFrom,
      onCommit: () => {
        this.state.commitBadges(turn.badges);
        this.tasks.commit(turn.progress, new Map());
      },
    };
  }

  /** What deciding intents (and a task's users, which are decided the same way) needs. */
  private intentOptions(now: Date) {
    return {
      now,
      dedupeWindow: this.opts.dedupeWindow,
      dedupeSeconds: this.opts.dedupeSeconds,
      app: (id: string) => this.apps.get(id),
      maxOutputBytes: this.opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
      memory: this.memory,
    };
  }

  private taskOptions(partition: number): TaskDecideOptions {
    return { ...this.intentOptions(this.clock()), partition, maxScan: this.opts.taskMaxScan };
  }

  @OnBatch(DECIDE_GROUP, TOPICS.pushIntent)
  decide(rs: ConsumedRecord<PushIntentEvent>[]): HandlerResult {
    // Intents of an app that is not (or no longer) in the apps file have no credentials, policy
    // or rendering rules to be decided with: they are dead-lettered, not pushed with defaults.
    const known = rs.filter((r) => this.apps.get(r.value.appId));
    const now = this.clock();
    const result = decideIntents(known, this.state, this.intentOptions(now));
    return {
      records: result.records,
      ...this.cut(rs, known, result.handled),
      // Only a committed transaction changes memory; an aborted one is decided again.
      onCommit: () => {
        this.state.commitBadges(result.badges);
        countTally(result.tally);
        countDecided(this.apps, result.records, known.slice(0, result.handled), now);
      },
    };
  }

  /**
   * Conversation reads (co-partitioned with the intents): badges drop by the conversation's
   * remembered pushes at once, the user's other devices get a read-sync push, at most one per user
   * per ROUTING_READ_SYNC_SECONDS (a read inside the interval leaves its sync owed, see
   * read-sync.decider). Reads are never held back for the rate limit; only the output budget cuts
   * a batch (the rest is read again at once).
   */
  @OnBatch(DECIDE_GROUP, TOPICS.imConversationRead)
  reads(rs: ConsumedRecord<ImConversationRead>[]): HandlerResult {
    const known = rs.filter((r) => this.apps.get(r.value.appId));
    const result = decideReads(known, this.state, {
      now: this.clock(),
      app: (id) => this.apps.get(id),
      intervalSeconds: this.opts.readSyncSeconds ?? DEFAULT_READ_SYNC_SECONDS,
      maxOutputBytes: this.opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
    });
    return {
      records: result.records,
      ...this.cut(rs, known, result.handled),
      onCommit: () => {
        this.state.commitBadges(result.badges);
        countReads(result.tally);
      },
    };
  }

  /**
   * A batch cut by the output budget after `handled` of the `known`-app records: the rest is read
   * again at once (next transaction); records of unknown apps before the cut are dead-lettered.
   */
  private cut<T extends { appId: string }>(
    rs: ConsumedRecord<T>[],
    known: ConsumedRecord<T>[],
    handled: number,
  ): Pick<HandlerResult, 'rejected' | 'deferFrom'> {
    const deferAt = handled < known.length ? known[handled].offset : undefined;
    const rejected = rs
      .filter((r) => !this.apps.get(r.value.appId))
      .filter((r) => deferAt === undefined || BigInt(r.offset) < BigInt(deferAt))
      .map(unknownApp);
    return {
      rejected,
      deferFrom: deferAt === undefined ? undefined : { offset: deferAt, until: Date.now() },
    };
  }
}

function countReads(t: ReadSyncTally): void {
  const m = routingMetrics.readSyncs;
  if (t.pushed) m.inc({ result: 'pushed' }, t.pushed);
  if (t.owed) m.inc({ result: 'owed' }, t.owed);
  if (t.quiet) m.inc({ result: 'quiet' }, t.quiet);
}

function countTally(t: DecideTally): void {
  const m = routingMetrics.decisions;
  if (t.apns) m.inc({ result: 'apns' }, t.apns);
  if (t.fcm) m.inc({ result: 'fcm' }, t.fcm);
  if (t.suppressed) m.inc({ result: 'suppressed' }, t.suppressed);
  if (t.rejected) m.inc({ result: 'rejected' }, t.rejected);
  if (t.expired) m.inc({ result: 'expired' }, t.expired);
  if (t.duplicates) m.inc({ result: 'duplicate' }, t.duplicates);
  if (t.recalls) routingMetrics.recalls.inc({ result: 'pushed' }, t.recalls);
  if (t.recallsEmpty) routingMetrics.recalls.inc({ result: 'nothing' }, t.recallsEmpty);
}

/**
 * Metrics only: the outcomes decide wrote itself, by app, status and code (the suppression rule),
 * and how long after its sentAt each intent was decided. Counted once the transaction committed.
 */
function countDecided(
  apps: AppsRegistry,
  records: OutboundRecord[],
  intents: ConsumedRecord<PushIntentEvent>[],
  now: Date,
): void {
  const outcomes = new Map<string, number>();
  for (const r of records) {
    if (r.topic.name !== TOPICS.pushOutcome.name) continue;
    const o = r.value as PushOutcome;
    const key = `${metricApp(apps, o.appId)}\n${o.status}\n${o.code ?? 'none'}`;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  }
  for (const [key, n] of outcomes) {
    const [app, status, code] = key.split('\n');
    routingMetrics.outcomes.inc({ app, status, code }, n);
  }
  const delays = new Map<string, ReturnType<typeof routingMetrics.decideDelaySeconds.labels>>();
  for (const r of intents) {
    if (isRecallIntent(r.value)) continue;
    const app = metricApp(apps, r.value.appId);
    let h = delays.get(app);
    if (!h) delays.set(app, (h = routingMetrics.decideDelaySeconds.labels({ app })));
    h.observe(Math.max(0, now.getTime() - Date.parse(r.value.message.sentAt)) / 1000);
  }
}
