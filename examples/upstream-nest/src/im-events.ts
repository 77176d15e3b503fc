import { randomBytes, randomUUID } from 'node:crypto';

/**
 * What the push platform's contract asks of the two topics an upstream chat service writes
 * (the platform's docs/upstream.md and docs/contracts.md). Copied rather than imported: an
 * upstream team lives in its own repository. The platform's integration test
 * (test/integration/upstream/upstream-nest.int-spec.ts) checks these against its own definitions.
 */
export const IM_TOPICS = {
  messageSent: 'im.message.sent.v1',
  groupMembers: 'im.group-members.v1',
} as const;
export type ImTopic = (typeof IM_TOPICS)[keyof typeof IM_TOPICS];

/** The `event-type` header of each topic. */
export const EVENT_TYPES: Record<ImTopic, string> = {
  'im.message.sent.v1': 'im.message.sent',
  'im.group-members.v1': 'im.group-members',
};

/** One element of a message (Tencent IM's MsgBody); media elements keep their own fields. */
export type MessageElement =
  | { type: 'text'; text: string }
  | { type: 'custom'; desc?: string; ext?: string; sound?: string; data?: string }
  | {
      type: 'image' | 'audio' | 'video' | 'file' | 'location' | 'face';
      [field: string]: unknown;
    };

/**
 * An `im.message.sent.v1` value (the fields this example uses; the schema has more, e.g.
 * `offlinePush`, `mentions`). Ids are 1–128 characters without `:`, white space or control
 * characters.
 */
export interface ImMessageSent {
  appId: string;
  messageId: string;
  /** ISO 8601; the TTL counts from it. */
  sentAt: string;
  conversation: { type: 'c2c' | 'group'; id: string; name?: string | null };
  sender: { userId: string; nickname?: string | null; nameCard?: string | null };
  /** c2c: exactly one (the peer); group: null (the platform reads the membership). */
  recipients?: string[] | null;
  elements: MessageElement[];
  offlinePush?: Record<string, unknown> | null;
  ttlSeconds?: number;
}

/** An `im.group-members.v1` value: the whole membership, replaced on every change. */
export interface ImGroupMembers {
  appId: string;
  groupId: string;
  members: string[];
  version?: number;
  updatedAt?: string;
}

/**
 * The record keys. A group's membership is keyed exactly like the group's messages
 * (`appId:group:groupId`), so that both land on the same partition number.
 */
export const messageKey = (m: ImMessageSent): string =>
  `${m.appId}:${m.conversation.type}:${m.conversation.id}`;
export const membershipKey = (g: ImGroupMembers): string => `${g.appId}:group:${g.groupId}`;

/** Where a record comes from, carried in its headers and on into the pushes it causes. */
export interface TraceIds {
  correlationId: string;
  traceparent: string;
}

/** The platform keeps a correlation id of 1–128 letters, digits, `_`, `.` or `-` (else new). */
const CORRELATION_ID = /^[A-Za-z0-9_.-]{1,128}$/;
const TRACEPARENT = /^(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The caller's ids when they are well formed, new ones otherwise. */
export function traceIds(correlationId?: string, traceparent?: string): TraceIds {
  return {
    correlationId:
      correlationId && CORRELATION_ID.test(correlationId) ? correlationId : randomUUID(),
    traceparent:
      traceparent && TRACEPARENT.test(traceparent)
        ? traceparent
        : `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
  };
}

/** The headers every record carries (docs/contracts.md). */
export const recordHeaders = (topic: ImTopic, ids: TraceIds): Record<string, string> => ({
  'content-type': 'application/json',
  'event-type': EVENT_TYPES[topic],
  'x-correlation-id': ids.correlationId,
  traceparent: ids.traceparent,
});
