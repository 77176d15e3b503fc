import { Kafka, logLevel } from 'kafkajs';
import {
  consumerLag,
  endOffsets,
  offsetsAt,
  readWindow,
  type GroupLag,
  type StartAt,
} from './pipeline-audit.reader';
import {
  AUDIT_TOPICS,
  reconcile,
  type AuditCounts,
  type AuditSample,
  type ReconcileOptions,
} from './pipeline-audit.reconcile';

export { AUDIT_TOPICS, reconcile, type AuditCounts } from './pipeline-audit.reconcile';
export { consumerLag, PLATFORM_GROUPS, readWindow, type GroupLag } from './pipeline-audit.reader';

/**
 * The pipeline audit: reads im.message.sent.v1 over a window and everything downstream of it
 * (intents, requests, retries, outcomes, dead letters; read_committed) and reconciles
 * messages → intents → requests → final outcomes. See docs/fault-suite.md.
 */
export interface AuditOptions extends ReconcileOptions {
  /** Brokers (`host:port`), unless `kafka` is given. */
  brokers?: string[];
  kafka?: Kafka;
  /** Messages whose record time is at or after this (ms since the epoch). */
  since?: number;
  /** Messages whose record time is before this (default: the topic's end when the audit starts). */
  until?: number;
  /** Or: where the message window starts per partition of im.message.sent.v1 (wins over `since`). */
  fromOffsets?: Record<number, string>;
  /** Where the message window ends per partition (exclusive; wins over `until`). */
  toOffsets?: Record<number, string>;
  /**
   * Downstream topics are read from `since` minus this (producers' clocks differ), or from the
   * beginning when the window is given by offsets without `since`. Default 60 s.
   */
  downstreamSlackMs?: number;
  /** Also report each platform consumer group's lag (records still to consume). */
  lag?: boolean | Record<string, string[]>;
  /** How long one read may take (default 5 min) and how long a partition may stand still (15 s). */
  readTimeoutMs?: number;
  idleTimeoutMs?: number;
  /** Fail when more jobs than this were handled twice by a dispatcher (default: report only). */
  maxProviderDuplicates?: number;
}

export interface AuditReport {
  ok: boolean;
  /** Why not ok, in words. */
  failures: string[];
  window: {
    since: string | null;
    until: string | null;
    messageOffsets: Record<number, { from: string; to: string }>;
  };
  counts: AuditCounts;
  lost: number;
  deadLettersByCode: Record<string, number>;
  samples: Record<string, AuditSample[]>;
  /** Partitions that could not be read to their end (open transaction, timeout). */
  incomplete: string[];
  lag?: { pendingTotal: number; groups: Record<string, number>; rows: GroupLag[] };
  tookMs: number;
}

const DOWNSTREAM = [
  AUDIT_TOPICS.intents,
  AUDIT_TOPICS.apnsRequests,
  AUDIT_TOPICS.fcmRequests,
  AUDIT_TOPICS.apnsRetries,
  AUDIT_TOPICS.fcmRetries,
  AUDIT_TOPICS.outcomes,
  AUDIT_TOPICS.deadLetters,
];

/** Runs the audit; `ok` is false on anything lost, a routing duplicate, or too many provider duplicates. */
export async function auditPipeline(opts: AuditOptions): Promise<AuditReport> {
  const started = Date.now();
  const kafka =
    opts.kafka ??
    new Kafka({
      clientId: 'pipeline-audit',
      brokers: opts.brokers ?? ['127.0.0.1:9092'],
      logLevel: logLevel.NOTHING,
      retry: { retries: 5 },
    });
  const admin = kafka.admin();
  await admin.connect();
  let messagesFrom: StartAt;
  let messagesTo: Record<number, string>;
  let downstreamFrom: StartAt;
  try {
    messagesFrom = opts.fromOffsets
      ? { offsets: opts.fromOffsets }
      : opts.since !== undefined
        ? { timestamp: opts.since }
        : 'earliest';
    messagesTo =
      opts.toOffsets ??
      (opts.until !== undefined
        ? await offsetsAt(admin, AUDIT_TOPICS.messages, opts.until)
        : await endOffsets(admin, AUDIT_TOPICS.messages));
    downstreamFrom =
      opts.since !== undefined
        ? { timestamp: opts.since - (opts.downstreamSlackMs ?? 60000) }
        : 'earliest';
  } finally {
    await admin.disconnect();
  }
  // The message window's end is fixed first, then everything downstream is read to its end as it
  // stands after that: what a message caused is written after the message.
  const read = await readWindow(kafka, {
    topics: {
      [AUDIT_TOPICS.messages]: messagesFrom,
      [AUDIT_TOPICS.groupMembers]: 'earliest',
      ...Object.fromEntries(DOWNSTREAM.map((t) => [t, downstreamFrom])),
    },
    stopAt: { [AUDIT_TOPICS.messages]: messagesTo },
    timeoutMs: opts.readTimeoutMs,
    idleTimeoutMs: opts.idleTimeoutMs,
  });
  const by = (...topics: string[]) => read.records.filter((r) => topics.includes(r.topic));
  const result = reconcile(
    {
      messages: by(AUDIT_TOPICS.messages),
      groupMembers: by(AUDIT_TOPICS.groupMembers),
      intents: by(AUDIT_TOPICS.intents),
      requests: by(AUDIT_TOPICS.apnsRequests, AUDIT_TOPICS.fcmRequests),
      retries: by(AUDIT_TOPICS.apnsRetries, AUDIT_TOPICS.fcmRetries),
      outcomes: by(AUDIT_TOPICS.outcomes),
      deadLetters: by(AUDIT_TOPICS.deadLetters),
    },
    opts,
  );
  let lag: AuditReport['lag'];
  if (opts.lag) {
    const rows = await consumerLag(kafka, opts.lag === true ? undefined : opts.lag);
    const groups: Record<string, number> = {};
    for (const r of rows) groups[r.group] = (groups[r.group] ?? 0) + r.pending;
    lag = { pendingTotal: rows.reduce((s, r) => s + r.pending, 0), groups, rows };
  }
  const failures: string[] = [];
  if (result.lost > 0) failures.push(`${result.lost} lost`);
  if (result.counts.routingDuplicateRequests > 0) {
    failures.push(`${result.counts.routingDuplicateRequests} jobs written twice by routing`);
  }
  if (
    opts.maxProviderDuplicates !== undefined &&
    result.counts.providerDuplicates > opts.maxProviderDuplicates
  ) {
    failures.push(
      `${result.counts.providerDuplicates} jobs handled twice by a dispatcher (allowed ${opts.maxProviderDuplicates})`,
    );
  }
  const incomplete = read.incomplete.filter((p) => !p.startsWith(`${AUDIT_TOPICS.groupMembers}:`));
  if (incomplete.length > 0) {
    failures.push(`could not read ${incomplete.length} partitions to their end`);
  }
  return {
    ok: failures.length === 0,
    failures,
    window: {
      since: opts.since !== undefined ? new Date(opts.since).toISOString() : null,
      until: opts.until !== undefined ? new Date(opts.until).toISOString() : null,
      messageOffsets: read.ranges[AUDIT_TOPICS.messages] ?? {},
    },
    counts: result.counts,
    lost: result.lost,
    deadLettersByCode: result.deadLettersByCode,
    samples: result.samples,
    incomplete: read.incomplete,
    lag,
    tookMs: Date.now() - started,
  };
}

/** The report as an aligned text table (what the command prints without --json). */
export function formatAuditReport(r: AuditReport): string {
  const c = r.counts;
  const rows: Array<[string, string | number, string?]> = [
    ['window', `${r.window.since ?? 'start'} .. ${r.window.until ?? 'end'}`],
    ['input records (im.message.sent.v1)', c.inputRecords],
    ['  valid messages audited', c.messages],
    ['  invalid inputs', c.invalidInputs, `${c.invalidInputsDeadLettered} dead-lettered`],
    ['  messages dead-lettered by the fan-out', c.messagesDeadLettered],
    ['intents expected', c.expectedIntents],
    ['  intents written (distinct)', c.intents, `${c.intentRepeats} repeats (at-least-once)`],
    ['  missing intents', c.missingIntents, c.missingIntents ? 'LOST' : ''],
    ['  intents without a decision', c.undecidedIntents, c.undecidedIntents ? 'LOST' : ''],
    [
      'routing outcomes (suppressed/rejected/expired)',
      c.routingOutcomes,
      `${c.routingOutcomeRepeats} repeats`,
    ],
    ['requests from routing (jobs)', c.requests],
    [
      '  jobs written twice by routing',
      c.routingDuplicateRequests,
      c.routingDuplicateRequests
        ? `EXACTLY-ONCE VIOLATION (${c.routingDuplicatesAfterRepeatedIntent} after a repeated intent)`
        : '',
    ],
    ['  retries', c.retries],
    [
      '  final outcomes',
      Object.values(c.finalOutcomes).reduce((a, b) => a + b, 0),
      Object.entries(c.finalOutcomes)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    ],
    ['  dead-lettered without outcome', c.requestsDeadLettered],
    ['  without a final outcome', c.requestsWithoutOutcome, c.requestsWithoutOutcome ? 'LOST' : ''],
    [
      '  jobs with several final outcomes',
      c.providerDuplicates,
      `${c.providerDuplicateOutcomes} extra outcomes; ${c.outcomeCopies} jobs with the same outcome re-produced (at-least-once)`,
    ],
    ['pending (within the grace time)', c.pending],
    ['dead letters in the window', c.deadLetters],
    ['LOST', r.lost],
  ];
  if (r.lag) {
    rows.push([
      'consumer lag (records)',
      r.lag.pendingTotal,
      Object.entries(r.lag.groups)
        .map(([g, n]) => `${g} ${n}`)
        .join(', '),
    ]);
  }
  if (r.incomplete.length) {
    rows.push([
      'partitions not read to the end',
      r.incomplete.length,
      r.incomplete.slice(0, 5).join(' '),
    ]);
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  const numWidth = Math.max(...rows.map(([, v]) => String(v).length));
  const lines = rows.map(
    ([k, v, note]) =>
      `${k.padEnd(width)}  ${String(v).padStart(numWidth)}${note ? `  ${note}` : ''}`,
  );
  const codes = Object.entries(r.deadLettersByCode);
  if (codes.length) {
    lines.push('', 'dead letters by source and code:');
    for (const [k, n] of codes.sort()) lines.push(`  ${k}  ${n}`);
  }
  for (const [cls, list] of Object.entries(r.samples)) {
    lines.push('', `${cls} (first ${list.length}):`);
    for (const s of list) lines.push(`  ${JSON.stringify(s)}`);
  }
  lines.push(
    '',
    r.ok ? `OK (${r.tookMs} ms)` : `FAILED: ${r.failures.join('; ')} (${r.tookMs} ms)`,
  );
  return lines.join('\n');
}
