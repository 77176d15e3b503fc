import {
  ApnsRequestSchema,
  DeadLetterSchema,
  FcmRequestSchema,
  ImGroupMembersSchema,
  ImMessageSentSchema,
  PushIntentSchema,
  PushOutcomeSchema,
  type DeadLetter,
  type ImMessageSent,
  type PushOutcome,
} from '@app/contracts';
import type { AuditRecord } from './pipeline-audit.reader';

export const AUDIT_TOPICS = {
  messages: 'im.message.sent.v1',
  groupMembers: 'im.group-members.v1',
  intents: 'push.intent.v1',
  apnsRequests: 'push.apns.request.v1',
  fcmRequests: 'push.fcm.request.v1',
  apnsRetries: 'push.apns.retry.v1',
  fcmRetries: 'push.fcm.retry.v1',
  outcomes: 'push.outcome.v1',
  deadLetters: 'push.dead-letter.v1',
} as const;

export interface ReconcileOptions {
  /** Only messages whose id starts with this are audited (tests tag their traffic). */
  messageIdPrefix?: string;
  /**
   * Work younger than this (a message, an intent, a request or its last retry) that has not yet
   * come to its next step is `pending`, not `lost`: the pipeline may still be working on it.
   */
  graceMs?: number;
  /** "Now" for the grace rule (default: the time of the call). */
  now?: number;
  /** How many examples of each problem the report lists. */
  samples?: number;
}

/** What the audit counted; every problem class also has a few examples in `samples`. */
export interface AuditCounts {
  /** Records of im.message.sent.v1 in the window. */
  inputRecords: number;
  /** Valid messages audited (after the message id filter). */
  messages: number;
  /** Records that are not a valid message (not UTF-8, not JSON, schema): each needs a dead letter. */
  invalidInputs: number;
  invalidInputsDeadLettered: number;
  /** Valid messages refused by the fan-out with a dead letter (unknown app or group, too large). */
  messagesDeadLettered: number;
  /** (message, recipient) pairs that should have an intent. */
  expectedIntents: number;
  /** Distinct (message, user) intents. */
  intents: number;
  /** Extra copies of an intent (allowed: the fan-out is at-least-once). */
  intentRepeats: number;
  missingIntents: number;
  /** Intents without a request, a routing outcome or a dead letter naming them. */
  undecidedIntents: number;
  /** Distinct jobs routing asked a dispatcher to send. */
  requests: number;
  /** Jobs written more than once to a request topic by routing (exactly-once violation). */
  routingDuplicateRequests: number;
  /**
   * Of those, jobs whose intent was also repeated: the fan-out wrote the intent again (at least
   * once) and decide did not recognise the repeat (its per-user dedupe window had moved on).
   */
  routingDuplicatesAfterRepeatedIntent: number;
  /** Routing's own outcomes (suppressed, rejected, expired), distinct jobs. */
  routingOutcomes: number;
  /** Routing outcomes repeated for one job (documented for suppressed-only repeats of an intent). */
  routingOutcomeRepeats: number;
  retries: number;
  /** Jobs with a dispatcher's final outcome, by status. */
  finalOutcomes: Record<string, number>;
  /** Requests dead-lettered by a dispatcher without an outcome (e.g. schema). */
  requestsDeadLettered: number;
  /** Requests without a final outcome or dead letter, past the grace time: lost or stuck. */
  requestsWithoutOutcome: number;
  /**
   * Jobs with more than one different final outcome from a dispatcher (another `at`, status or
   * attempt count): the job was handled twice, i.e. most likely sent twice (at-least-once after a
   * crash).
   */
  providerDuplicates: number;
  /** Extra final outcomes in total (sum over jobs of outcomes - 1), copies included. */
  providerDuplicateOutcomes: number;
  /**
   * Jobs whose final outcome was written more than once as the same record (same `at`): a batch
   * handled again in one process (a failed commit, a rebalance) re-produces what it remembered
   * instead of sending again. Harmless for consumers that dedupe by jobId.
   */
  outcomeCopies: number;
  /** Still in progress (within the grace time): not counted as lost. */
  pending: number;
  /** Dead letters read in the window, all sources. */
  deadLetters: number;
}

export interface AuditSample {
  kind: string;
  [field: string]: unknown;
}

export interface ReconcileReport {
  counts: AuditCounts;
  /** Messages, intents and jobs lost: the sum of every "missing" class past the grace time. */
  lost: number;
  deadLettersByCode: Record<string, number>;
  samples: Record<string, AuditSample[]>;
}

export interface AuditInput {
  messages: AuditRecord[];
  groupMembers: AuditRecord[];
  intents: AuditRecord[];
  requests: AuditRecord[];
  retries: AuditRecord[];
  outcomes: AuditRecord[];
  deadLetters: AuditRecord[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parse(value: Buffer | null): unknown {
  if (!value) return undefined;
  try {
    return JSON.parse(utf8.decode(value)) as unknown;
  } catch {
    return undefined;
  }
}

const sourceKey = (topic: string, partition: number, offset: string) =>
  `${topic}:${partition}:${offset}`;
const triple = (appId: string, messageId: string, userId: string) =>
  `${appId}\n${messageId}\n${userId}`;

interface Membership {
  at: number;
  members: string[] | null;
}

/** Membership of `key` as of `at`: the newest snapshot written at or before, else the first after. */
function membersAt(history: Membership[] | undefined, at: number): string[] | null | undefined {
  if (!history || history.length === 0) return undefined;
  let best: Membership | undefined;
  for (const h of history) if (h.at <= at) best = h;
  return (best ?? history[0]).members;
}

/** The recipients the fan-out should have written intents for (never the sender, never twice). */
export function expectedRecipients(
  m: ImMessageSent,
  groups: Map<string, Membership[]>,
  at: number,
): string[] | undefined {
  let list: readonly string[] | null | undefined = m.recipients;
  if (!list && m.conversation.type === 'group') {
    list = membersAt(groups.get(`${m.appId}:group:${m.conversation.id}`), at);
  }
  if (!list) return undefined;
  return [...new Set(list)].filter((u) => u !== m.sender.userId);
}

/**
 * Reconciles messages → intents → requests → final outcomes. Pure: give it the records of each
 * topic (read_committed) and it says what is missing, repeated or still in progress.
 *
 * Rules:
 * - every record of im.message.sent.v1 that is not a valid message has a dead letter naming its
 *   topic, partition and offset;
 * - every valid message has an intent per recipient (c2c: the one recipient; group: the event's
 *   recipients or the membership in im.group-members.v1 as of the message), unless the message was
 *   dead-lettered;
 * - every intent (message, user) has a decision: a request of routing, a routing outcome
 *   (suppressed, rejected, expired: `latencyMs` null) or a dead letter of the intent;
 * - every request (jobId on push.apns.request.v1 / push.fcm.request.v1) has a final outcome from
 *   its dispatcher (`latencyMs` set) or a dead letter of one of its records;
 * - a jobId on the request topics more than once is a routing duplicate (decide writes in
 *   transactions: never allowed); more than one dispatcher outcome for a job is a provider-side
 *   duplicate (at-least-once after a dispatcher crash: reported, bounded by the caller).
 */
export function reconcile(input: AuditInput, opts: ReconcileOptions = {}): ReconcileReport {
  const now = opts.now ?? Date.now();
  const grace = opts.graceMs ?? 0;
  const maxSamples = opts.samples ?? 20;
  const samples: Record<string, AuditSample[]> = {};
  const sample = (cls: string, s: AuditSample) => {
    const list = (samples[cls] ??= []);
    if (list.length < maxSamples) list.push(s);
  };
  const recent = (ts: number) => now - ts < grace;
  const prefix = opts.messageIdPrefix;
  const wanted = (messageId: string) => !prefix || messageId.startsWith(prefix);

  // Dead letters: by source position, and by what their value names.
  const letteredAt = new Set<string>();
  const letteredMessages = new Set<string>(); // appId\nmessageId
  const letteredIntents = new Set<string>(); // triple
  const letteredJobs = new Set<string>();
  const deadLettersByCode: Record<string, number> = {};
  for (const r of input.deadLetters) {
    const parsed = DeadLetterSchema.safeParse(parse(r.value));
    if (!parsed.success) continue;
    const d: DeadLetter = parsed.data;
    const code = `${d.source.topic} ${d.error.code}`;
    deadLettersByCode[code] = (deadLettersByCode[code] ?? 0) + 1;
    letteredAt.add(sourceKey(d.source.topic, d.source.partition, d.source.offset));
    if (d.value === null || d.valueEncoding !== 'utf8') continue;
    let v: Record<string, unknown> | undefined;
    try {
      v = JSON.parse(d.value) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (!v || typeof v !== 'object') continue;
    const str = (x: unknown) => (typeof x === 'string' ? x : undefined);
    if (d.source.topic === AUDIT_TOPICS.messages) {
      const id = str(v.messageId);
      const app = str(v.appId);
      if (id && app) letteredMessages.add(`${app}\n${id}`);
    } else if (d.source.topic === AUDIT_TOPICS.intents) {
      const msg = v.message as Record<string, unknown> | undefined;
      const id = str(msg?.messageId);
      const app = str(v.appId);
      const user = str(v.userId);
      if (id && app && user) letteredIntents.add(triple(app, id, user));
    } else {
      const job = str(v.jobId);
      if (job) letteredJobs.add(job);
    }
  }

  // Group memberships over time.
  const groups = new Map<string, Membership[]>();
  for (const r of input.groupMembers) {
    if (!r.key) continue;
    const parsed = r.value === null ? null : ImGroupMembersSchema.safeParse(parse(r.value));
    if (parsed && !parsed.success) continue;
    const list = groups.get(r.key) ?? [];
    list.push({ at: r.timestamp, members: parsed ? parsed.data.members : null });
    groups.set(r.key, list);
  }
  for (const list of groups.values()) list.sort((a, b) => a.at - b.at);

  // Messages.
  let invalidInputs = 0;
  let invalidInputsDeadLettered = 0;
  let messagesDeadLettered = 0;
  let lost = 0;
  let pending = 0;
  const messages = new Map<string, { m: ImMessageSent; at: number }>(); // appId\nmessageId
  for (const r of input.messages) {
    const parsed = ImMessageSentSchema.safeParse(parse(r.value));
    const at = sourceKey(r.topic, r.partition, r.offset);
    if (!parsed.success) {
      invalidInputs++;
      if (letteredAt.has(at)) invalidInputsDeadLettered++;
      else if (recent(r.timestamp)) pending++;
      else {
        lost++;
        sample('invalidInputsWithoutDeadLetter', {
          kind: 'invalid input without a dead letter',
          partition: r.partition,
          offset: r.offset,
          bytes: r.value?.length ?? 0,
        });
      }
      continue;
    }
    const m = parsed.data;
    if (!wanted(m.messageId)) continue;
    if (letteredAt.has(at) || letteredMessages.has(`${m.appId}\n${m.messageId}`)) {
      messagesDeadLettered++;
      continue;
    }
    if (!messages.has(`${m.appId}\n${m.messageId}`)) {
      messages.set(`${m.appId}\n${m.messageId}`, { m, at: r.timestamp });
    }
  }

  // Intents.
  const intentCopies = new Map<string, { n: number; at: number }>();
  for (const r of input.intents) {
    const parsed = PushIntentSchema.safeParse(parse(r.value));
    if (!parsed.success) continue;
    const i = parsed.data;
    if (!messages.has(`${i.appId}\n${i.message.messageId}`)) continue;
    const k = triple(i.appId, i.message.messageId, i.userId);
    const c = intentCopies.get(k);
    if (c) c.n++;
    else intentCopies.set(k, { n: 1, at: r.timestamp });
  }
  let expectedIntents = 0;
  let missingIntents = 0;
  for (const { m, at } of messages.values()) {
    const recipients = expectedRecipients(m, groups, at);
    if (!recipients) {
      // A group without a membership record: the fan-out dead-letters it (UNKNOWN_GROUP).
      if (recent(at)) pending++;
      else {
        lost++;
        missingIntents++;
        sample('missingIntents', {
          kind: 'group message without membership and without a dead letter',
          appId: m.appId,
          messageId: m.messageId,
        });
      }
      continue;
    }
    for (const u of recipients) {
      expectedIntents++;
      if (intentCopies.has(triple(m.appId, m.messageId, u))) continue;
      if (letteredIntents.has(triple(m.appId, m.messageId, u))) continue;
      if (recent(at)) {
        pending++;
        continue;
      }
      missingIntents++;
      lost++;
      sample('missingIntents', {
        kind: 'no intent for a recipient',
        appId: m.appId,
        messageId: m.messageId,
        userId: u,
        conversation: `${m.conversation.type}:${m.conversation.id}`,
      });
    }
  }

  // Requests written by routing.
  const requests = new Map<
    string,
    { n: number; at: number; topic: string; messageId: string; userId: string; appId: string }
  >();
  const decided = new Set<string>(); // triple
  for (const r of input.requests) {
    const schema = r.topic === AUDIT_TOPICS.apnsRequests ? ApnsRequestSchema : FcmRequestSchema;
    const parsed = schema.safeParse(parse(r.value));
    if (!parsed.success) continue;
    const q = parsed.data;
    if (!messages.has(`${q.appId}\n${q.messageId}`)) continue;
    decided.add(triple(q.appId, q.messageId, q.userId));
    const c = requests.get(q.jobId);
    if (c) c.n++;
    else {
      requests.set(q.jobId, {
        n: 1,
        at: r.timestamp,
        topic: r.topic,
        messageId: q.messageId,
        userId: q.userId,
        appId: q.appId,
      });
    }
  }
  let routingDuplicateRequests = 0;
  let routingDuplicatesAfterRepeatedIntent = 0;
  for (const [jobId, c] of requests) {
    if (c.n > 1) {
      routingDuplicateRequests++;
      const intents = intentCopies.get(triple(c.appId, c.messageId, c.userId))?.n ?? 0;
      if (intents > 1) routingDuplicatesAfterRepeatedIntent++;
      sample('routingDuplicateRequests', {
        kind:
          intents > 1
            ? 'job written twice by routing, after a repeated intent (decide did not drop the repeat)'
            : 'job written twice by routing from one intent',
        jobId,
        copies: c.n,
        intents,
        topic: c.topic,
        messageId: c.messageId,
        userId: c.userId,
      });
    }
  }

  // Retries: the last activity of a job (a retry that is not due yet is work in progress).
  const lastActivity = new Map<string, number>();
  let retries = 0;
  for (const r of input.retries) {
    const schema = r.topic === AUDIT_TOPICS.apnsRetries ? ApnsRequestSchema : FcmRequestSchema;
    const parsed = schema.safeParse(parse(r.value));
    if (!parsed.success || !requests.has(parsed.data.jobId)) continue;
    retries++;
    const due = parsed.data.notBefore ? Date.parse(parsed.data.notBefore) : r.timestamp;
    lastActivity.set(
      parsed.data.jobId,
      Math.max(lastActivity.get(parsed.data.jobId) ?? 0, r.timestamp, due),
    );
  }

  // Outcomes: routing's (latencyMs null) decide intents; dispatchers' (latencyMs set) end jobs.
  const routingOutcomeCopies = new Map<string, number>();
  const finals = new Map<string, PushOutcome[]>();
  for (const r of input.outcomes) {
    const parsed = PushOutcomeSchema.safeParse(parse(r.value));
    if (!parsed.success) continue;
    const o = parsed.data;
    if (!messages.has(`${o.appId}\n${o.messageId}`)) continue;
    if (o.latencyMs === null) {
      decided.add(triple(o.appId, o.messageId, o.userId));
      routingOutcomeCopies.set(o.jobId, (routingOutcomeCopies.get(o.jobId) ?? 0) + 1);
    } else {
      const list = finals.get(o.jobId) ?? [];
      list.push(o);
      finals.set(o.jobId, list);
    }
  }
  let routingOutcomeRepeats = 0;
  for (const n of routingOutcomeCopies.values()) if (n > 1) routingOutcomeRepeats += n - 1;

  let undecidedIntents = 0;
  let intentRepeats = 0;
  for (const [k, c] of intentCopies) {
    intentRepeats += c.n - 1;
    if (decided.has(k) || letteredIntents.has(k)) continue;
    if (recent(c.at)) {
      pending++;
      continue;
    }
    undecidedIntents++;
    lost++;
    const [appId, messageId, userId] = k.split('\n');
    sample('undecidedIntents', { kind: 'intent without a decision', appId, messageId, userId });
  }

  const finalOutcomes: Record<string, number> = {};
  let requestsWithoutOutcome = 0;
  let requestsDeadLettered = 0;
  let providerDuplicates = 0;
  let providerDuplicateOutcomes = 0;
  let outcomeCopies = 0;
  for (const [jobId, q] of requests) {
    const list = finals.get(jobId);
    if (list && list.length > 0) {
      finalOutcomes[list[0].status] = (finalOutcomes[list[0].status] ?? 0) + 1;
      if (list.length > 1) {
        providerDuplicateOutcomes += list.length - 1;
        const distinct = new Set(list.map((o) => `${o.status}|${o.at}|${o.attempts}`)).size;
        if (distinct < list.length) outcomeCopies++;
        if (distinct > 1) {
          providerDuplicates++;
          sample('providerDuplicates', {
            kind: 'job handled twice by a dispatcher (different final outcomes)',
            jobId,
            outcomes: list.map((o) => `${o.status}@${o.at} attempts ${o.attempts}`),
          });
        }
      }
      continue;
    }
    if (letteredJobs.has(jobId)) {
      requestsDeadLettered++;
      continue;
    }
    if (recent(Math.max(q.at, lastActivity.get(jobId) ?? 0))) {
      pending++;
      continue;
    }
    requestsWithoutOutcome++;
    lost++;
    sample('requestsWithoutOutcome', {
      kind: 'request without a final outcome',
      jobId,
      topic: q.topic,
      appId: q.appId,
      messageId: q.messageId,
      userId: q.userId,
      lastActivity: new Date(Math.max(q.at, lastActivity.get(jobId) ?? 0)).toISOString(),
    });
  }

  return {
    counts: {
      inputRecords: input.messages.length,
      messages: messages.size,
      invalidInputs,
      invalidInputsDeadLettered,
      messagesDeadLettered,
      expectedIntents,
      intents: intentCopies.size,
      intentRepeats,
      missingIntents,
      undecidedIntents,
      requests: requests.size,
      routingDuplicateRequests,
      routingDuplicatesAfterRepeatedIntent,
      routingOutcomes: routingOutcomeCopies.size,
      routingOutcomeRepeats,
      retries,
      finalOutcomes,
      requestsDeadLettered,
      requestsWithoutOutcome,
      providerDuplicates,
      providerDuplicateOutcomes,
      outcomeCopies,
      pending,
      deadLetters: input.deadLetters.length,
    },
    lost,
    deadLettersByCode,
    samples,
  };
}
