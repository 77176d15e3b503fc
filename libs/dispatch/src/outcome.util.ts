import {
  TOPICS,
  type PushOutcome,
  type TokenInvalidated,
  type TopicDefinition,
  userKey,
} from '@app/contracts';
import {
  deadLetterForRecord,
  outbound,
  type ConsumedRecord,
  type OutboundRecord,
} from '@app/kafka';
import type {
  DispatchProvider,
  DispatchRequest,
  InvalidationHint,
  TerminalStatus,
} from './dispatch.types';

/**
 * A `push.outcome.v1` value. `attempts` counts every send of the job including this one;
 * `latencyMs` is from the request's `createdAt` (when routing decided to push) to now, so it
 * includes the time spent waiting in retries.
 */
export function buildOutcome(
  req: DispatchRequest,
  provider: DispatchProvider,
  status: TerminalStatus,
  detail: {
    code?: string | null;
    reason?: string | null;
    attempts?: number;
    now?: number;
    /** `now` as an ISO string, when the caller already has it (one per batch, not per push). */
    at?: string;
  } = {},
): PushOutcome {
  const now = detail.now ?? Date.now();
  return {
    jobId: req.jobId,
    messageId: req.messageId,
    appId: req.appId,
    userId: req.userId,
    deviceId: req.deviceId,
    provider,
    status,
    code: detail.code?.slice(0, 128) ?? null,
    reason: detail.reason?.slice(0, 1024) ?? null,
    attempts: detail.attempts ?? req.attempt + 1,
    latencyMs: Math.max(0, now - Date.parse(req.createdAt)),
    at: detail.at ?? new Date(now).toISOString(),
  };
}

/** A `token.invalidated.v1` value carrying the provider's timestamp when it gave one. */
export function buildInvalidation(
  req: DispatchRequest,
  provider: DispatchProvider,
  hint: InvalidationHint,
  now = Date.now(),
): TokenInvalidated {
  return {
    appId: req.appId,
    userId: req.userId,
    deviceId: req.deviceId,
    provider,
    token: req.token,
    reason: hint.reason,
    environment: hint.environment ?? null,
    providerTimestamp: hint.providerTimestamp?.toISOString() ?? null,
    at: new Date(now).toISOString(),
  };
}

export const outcomeRecord = (o: PushOutcome, ctx?: ConsumedRecord<unknown>): OutboundRecord =>
  outbound(TOPICS.pushOutcome, o, {
    key: userKey(o),
    context: ctx?.context,
    prevalidated: true,
  });

export const invalidationRecord = (
  v: TokenInvalidated,
  ctx?: ConsumedRecord<unknown>,
): OutboundRecord =>
  outbound(TOPICS.tokenInvalidated, v, {
    key: userKey(v),
    context: ctx?.context,
    prevalidated: true,
  });

/** The request again, one attempt later, not to be sent before `notBefore`. */
export function retryRecord<R extends DispatchRequest>(
  retryTopic: TopicDefinition<R, unknown>,
  req: R,
  notBefore: Date,
  ctx?: ConsumedRecord<unknown>,
): OutboundRecord {
  const next = { ...req, attempt: req.attempt + 1, notBefore: notBefore.toISOString() };
  return outbound(retryTopic, next, {
    key: userKey(req),
    context: ctx?.context,
    prevalidated: true,
  });
}

/** A dead letter for a consumed record the provider refused, its value kept as it was read. */
export const rejectedDeadLetter = (
  rec: ConsumedRecord<unknown>,
  code: string,
  message: string,
): OutboundRecord => deadLetterForRecord(rec, { code, message });
