import {
  ImConversationReadSchema,
  ImMessageRecalledSchema,
  ImMessageSentSchema,
  PresenceDeviceEventSchema,
  PresenceUserStateSchema,
  PushSettingsSchema,
  PushTaskRequestSchema,
  UserAttributesSchema,
  UserTagsSchema,
} from '@app/contracts';
import { z, type ZodType } from 'zod';

/*
 * What the controllers' metadata does not say about a route, for the OpenAPI documents
 * (openapi.ts): a summary, the success body, problems specific to the route, and the body of a
 * route that validates it in the handler rather than through a `ZodPipe`. Keyed by
 * `METHOD /path/{param}` as the document names routes; a route missing here is still listed
 * (from its metadata), with its controller and handler as the summary.
 */

export type JsonSchema = Record<string, unknown>;

export interface RouteDoc {
  summary: string;
  description?: string;
  tag?: string;
  /** A body the handler validates itself (no `ZodPipe`); a function is called when needed. */
  body?: ZodType | JsonSchema | (() => JsonSchema);
  bodyDescription?: string;
  /** The success answer's body. */
  response?: ZodType | JsonSchema;
  responseType?: string;
  responseDescription?: string;
  responseHeaders?: Record<string, { description: string; schema: JsonSchema }>;
  /** Problem answers of this route beyond the common ones (400, 401, 403, 413, 415, 500). */
  problems?: Record<number, string>;
  /** Other answers that are not problems. */
  responses?: Record<number, { description: string; schema?: JsonSchema }>;
}

/** A body schema: the event's, less fields the path gives or that have a default. */
function bodyWithout(schema: ZodType, optional: string[]): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  const props = { ...(json.properties as Record<string, unknown>) };
  for (const f of optional) if (f !== 'recalledAt' && f !== 'readAt') delete props[f];
  const required = ((json.required as string[] | undefined) ?? []).filter(
    (f) => !optional.includes(f),
  );
  return { ...json, properties: props, required };
}

const DEVICE_VIEW: JsonSchema = {
  type: 'object',
  properties: {
    deviceId: { type: 'string' },
    platform: { type: 'string' },
    provider: { type: 'string', enum: ['apns', 'fcm'] },
    tokenPreview: {
      type: 'string',
      description: 'A short prefix and suffix of the token: a token is never returned whole.',
    },
    topic: { type: ['string', 'null'] },
    environment: { type: ['string', 'null'] },
    pushType: { type: ['string', 'null'] },
    locale: { type: ['string', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
  required: ['deviceId', 'platform', 'provider', 'tokenPreview', 'createdAt', 'updatedAt'],
};

const USER_VERSION = {
  type: 'integer',
  description: "The user's snapshot version (it grows with every change).",
};

const DATABASE_DOWN = 'The database does not answer (nothing was changed; retry, see Retry-After).';

const registry = 'token-registry';

const reports = 'delivery-reports';

const OUTCOME_VIEW: JsonSchema = {
  type: 'object',
  properties: {
    jobId: { type: 'string' },
    messageId: { type: 'string' },
    userId: { type: 'string' },
    deviceId: { type: ['string', 'null'] },
    provider: { type: ['string', 'null'], enum: ['apns', 'fcm', null] },
    status: {
      type: 'string',
      enum: ['delivered', 'suppressed', 'invalid_token', 'rejected', 'expired', 'failed'],
    },
    code: { type: ['string', 'null'], description: 'The routing rule, or the provider reason.' },
    reason: { type: ['string', 'null'] },
    attempts: { type: 'integer' },
    latencyMs: {
      type: ['number', 'null'],
      description: "Routing's decision → the provider's final answer, retries included.",
    },
    decidedAt: { type: 'string', format: 'date-time' },
    at: { type: 'string', format: 'date-time' },
  },
  required: ['jobId', 'messageId', 'userId', 'status', 'attempts', 'decidedAt', 'at'],
};

const OUTCOME_PAGE: JsonSchema = {
  type: 'object',
  properties: {
    items: { type: 'array', items: OUTCOME_VIEW },
    nextCursor: {
      type: ['string', 'null'],
      description: 'Pass as `cursor` for the next page; null on the last page.',
    },
  },
  required: ['items', 'nextCursor'],
};

const PAGING = "Query: `limit` (1–500, default 50), `cursor` (the previous page's `nextCursor`).";

const TAGS_VIEW = z.object({ version: z.number().int(), tags: UserTagsSchema });
const ATTRIBUTES_VIEW = z.object({ version: z.number().int(), attributes: UserAttributesSchema });
const SNAPSHOT_TOO_LARGE =
  "The user's devices, settings, tags and attributes would not fit one token.user-devices.v1 record.";
const TAGS_CHANGE =
  'Tags: 1–64 characters of letters, digits, `_ . : @ -`, case-sensitive; at most 50 per user, ' +
  "stored unique and sorted. A change is published on token.user-devices.v1 (the snapshot's " +
  '`tags`) through the outbox; a change that changes nothing publishes nothing.';
const ATTRIBUTES_CHANGE =
  'Attributes: names of 1–32 letters, digits, `_ . -`, values strings of at most 128 characters ' +
  'without control characters; at most 20 per user. A change is published on ' +
  "token.user-devices.v1 (the snapshot's `attributes`) through the outbox; a change that changes " +
  'nothing publishes nothing.';

export const ROUTE_DOCS: Record<string, RouteDoc> = {
  'PUT /v1/apps/{appId}/users/{userId}/devices/{deviceId}': {
    tag: registry,
    summary: 'Register a device token (or update the device)',
    description:
      'Idempotent. A token held by another user or device moves here (`movedFrom`); a user over ' +
      'the device cap loses the least recently updated devices (`evicted`). The change is ' +
      'published on token.user-devices.v1 through the outbox.',
    response: {
      type: 'object',
      properties: {
        version: USER_VERSION,
        device: DEVICE_VIEW,
        movedFrom: {
          type: 'array',
          items: {
            type: 'object',
            properties: { userId: { type: 'string' }, deviceId: { type: 'string' } },
            required: ['userId', 'deviceId'],
          },
        },
        evicted: { type: 'array', items: { type: 'string' } },
      },
      required: ['version', 'device', 'movedFrom', 'evicted'],
    },
    problems: {
      413: "The user's devices and settings would not fit one token.user-devices.v1 record.",
      503: DATABASE_DOWN,
    },
  },
  'DELETE /v1/apps/{appId}/users/{userId}/devices/{deviceId}': {
    tag: registry,
    summary: 'Unregister a device (idempotent)',
    responseDescription: 'Removed, or was not registered.',
    problems: { 503: DATABASE_DOWN },
  },
  'GET /v1/apps/{appId}/users/{userId}/devices': {
    tag: registry,
    summary: "A user's registered devices (tokens shortened)",
    response: {
      type: 'object',
      properties: { version: USER_VERSION, devices: { type: 'array', items: DEVICE_VIEW } },
      required: ['version', 'devices'],
    },
    problems: { 503: DATABASE_DOWN },
  },
  'PUT /v1/apps/{appId}/users/{userId}/settings': {
    tag: registry,
    summary: "Update a user's push settings (fields left out keep their value)",
    response: z.object({ version: z.number().int(), settings: PushSettingsSchema }),
    problems: {
      413: "The user's devices and settings would not fit one token.user-devices.v1 record.",
      503: DATABASE_DOWN,
    },
  },
  'GET /v1/apps/{appId}/users/{userId}/settings': {
    tag: registry,
    summary: "A user's push settings (the defaults, version 0, for a user never seen)",
    response: z.object({ version: z.number().int(), settings: PushSettingsSchema }),
    problems: { 503: DATABASE_DOWN },
  },
  'GET /v1/apps/{appId}/users/{userId}/tags': {
    tag: registry,
    summary: "A user's tags, sorted (none, version 0, for a user never seen)",
    response: TAGS_VIEW,
    problems: { 503: DATABASE_DOWN },
  },
  'PUT /v1/apps/{appId}/users/{userId}/tags': {
    tag: registry,
    summary: "Replace a user's tags",
    description: TAGS_CHANGE,
    response: TAGS_VIEW,
    problems: { 413: SNAPSHOT_TOO_LARGE, 503: DATABASE_DOWN },
  },
  'POST /v1/apps/{appId}/users/{userId}/tags': {
    tag: registry,
    summary: "Add tags to a user's (the others stay)",
    description: `${TAGS_CHANGE} A result of more than 50 tags is a 400 naming \`tags\`.`,
    response: TAGS_VIEW,
    problems: { 413: SNAPSHOT_TOO_LARGE, 503: DATABASE_DOWN },
  },
  'DELETE /v1/apps/{appId}/users/{userId}/tags': {
    tag: registry,
    summary: 'Remove the tags named by `tag` query parameters, or all of them without one',
    description:
      'Query: `tag` (repeated, 1–50; e.g. `?tag=vip&tag=city:berlin`); any other query ' +
      'parameter is a 400. Removing tags the user does not have changes nothing. ' +
      TAGS_CHANGE,
    response: TAGS_VIEW,
    problems: { 503: DATABASE_DOWN },
  },
  'GET /v1/apps/{appId}/users/{userId}/attributes': {
    tag: registry,
    summary: "A user's attributes (none, version 0, for a user never seen)",
    response: ATTRIBUTES_VIEW,
    problems: { 503: DATABASE_DOWN },
  },
  'PUT /v1/apps/{appId}/users/{userId}/attributes': {
    tag: registry,
    summary: "Replace a user's attributes (`{}` removes them all)",
    description: ATTRIBUTES_CHANGE,
    response: ATTRIBUTES_VIEW,
    problems: { 413: SNAPSHOT_TOO_LARGE, 503: DATABASE_DOWN },
  },
  'PATCH /v1/apps/{appId}/users/{userId}/attributes': {
    tag: registry,
    summary: 'Set the named attributes and keep the others (`null` removes one)',
    description: `${ATTRIBUTES_CHANGE} A result of more than 20 attributes is a 400 naming \`attributes\`.`,
    response: ATTRIBUTES_VIEW,
    problems: { 413: SNAPSHOT_TOO_LARGE, 503: DATABASE_DOWN },
  },
  'POST /v1/apps/{appId}/users/{userId}/devices/{deviceId}/presence': {
    tag: 'presence',
    summary: "Report a device's presence (as an IM gateway's event would)",
    description:
      'Becomes a presence.device-event.v1 record; 202 once Kafka has acknowledged it. The state ' +
      'machine applies it in order with the gateways\u2019 events.',
    response: z.object({ accepted: PresenceDeviceEventSchema }),
    problems: {
      413: 'The event cannot fit its topic (only with a misconfigured topic).',
      503: 'Kafka did not acknowledge the event (not recorded; retry).',
    },
  },
  'GET /v1/apps/{appId}/users/{userId}/presence': {
    tag: 'presence',
    summary: "A user's presence (every device's state)",
    response: PresenceUserStateSchema,
    responseHeaders: {
      'x-presence-source': {
        description:
          '`memory` (this instance owns the user, timers applied as of now) or `changelog` ' +
          '(the last snapshot on presence.user-state.v1).',
        schema: { type: 'string', enum: ['memory', 'changelog'] },
      },
    },
    problems: {
      404: 'No presence is known for the user.',
      503: 'The state is still being restored, or the changelog could not be read.',
    },
  },
  'POST /v1/apps/{appId}/messages': {
    tag: 'routing',
    summary: 'Send a message (an im.message.sent.v1 event, for upstreams without Kafka)',
    description:
      'The body is an im.message.sent.v1 event; `appId` may be left out (the path\u2019s is ' +
      'taken) and, given, must be the path\u2019s. Unknown fields are refused (400 naming each), ' +
      'except inside media elements. 202 once Kafka has stored the message.',
    // The event's own schema with `appId` optional (built when a document is: zod refuses
    // `.partial()` on a schema with refinements, so `required` is edited instead).
    body: () => {
      const schema = z.toJSONSchema(ImMessageSentSchema, {
        io: 'input',
        unrepresentable: 'any',
      }) as JsonSchema;
      delete schema.$schema;
      const required = (schema.required as string[] | undefined) ?? [];
      return { ...schema, required: required.filter((f) => f !== 'appId') };
    },
    bodyDescription: 'An im.message.sent.v1 event (up to 100,000 recipients; 4 MiB).',
    response: {
      type: 'object',
      properties: {
        messageId: { type: 'string' },
        status: { type: 'string', const: 'accepted' },
      },
      required: ['messageId', 'status'],
    },
    problems: {
      413: 'The message, or the push intents it makes, cannot fit their Kafka topics.',
      503: 'Too many messages waiting to be stored (BACKPRESSURE, with Retry-After), or Kafka failed.',
    },
  },
  'POST /v1/apps/{appId}/messages/{messageId}/recall': {
    tag: 'routing',
    summary: 'Recall a message (an im.message.recalled.v1 event)',
    description:
      'The devices that were pushed the message get it replaced (the same apns-collapse-id; on ' +
      'Android the same tag while it is the conversation\u2019s newest notification, else a data ' +
      'message) or, with the app\u2019s `recall.mode: silent`, a background push; their badges ' +
      'drop by what the message added, once. A c2c recall names the peer in `recipients`; a ' +
      'group recall reaches the group\u2019s members. `recalledAt` defaults to now. Unknown fields ' +
      'are refused. 202 once Kafka has stored the event.',
    body: () => bodyWithout(ImMessageRecalledSchema, ['appId', 'messageId', 'recalledAt']),
    bodyDescription: 'An im.message.recalled.v1 event without the path\u2019s ids.',
    response: {
      type: 'object',
      properties: {
        messageId: { type: 'string' },
        status: { type: 'string', const: 'accepted' },
      },
      required: ['messageId', 'status'],
    },
    problems: { 503: 'Kafka could not store the event (retry).' },
  },
  'POST /v1/apps/{appId}/users/{userId}/conversations/read': {
    tag: 'routing',
    summary: 'A user read a conversation (an im.conversation.read.v1 event)',
    description:
      'The user\u2019s badges drop by the conversation\u2019s unread pushes, and the user\u2019s ' +
      'other devices that hold notifications of it get a background push with the new badge ' +
      '(at most one per user per ROUTING_READ_SYNC_SECONDS; reads in between are coalesced). ' +
      'The conversation is the reader\u2019s view (a c2c id is the peer); `deviceId`, the device ' +
      'it was read on, gets no push; `readAt` defaults to now. 202 once Kafka has stored it.',
    body: () => bodyWithout(ImConversationReadSchema, ['appId', 'userId', 'readAt']),
    bodyDescription: 'An im.conversation.read.v1 event without the path\u2019s ids.',
    response: {
      type: 'object',
      properties: { status: { type: 'string', const: 'accepted' } },
      required: ['status'],
    },
    problems: { 503: 'Kafka could not store the event (retry).' },
  },
  'POST /v1/apps/{appId}/pushes': {
    tag: 'routing',
    summary:
      'A push task: a notification of its own to listed users, all users, tags or attributes',
    description:
      'Content as a message\u2019s `offlinePush` (`desc` required; title, ext, sounds, images, ' +
      'per-platform overrides, `localized`). Audience: exactly one of `userIds` (\u2264 100,000), ' +
      '`all: true`, `tags` (`and` / `or`, \u2264 10 each) or `attributes` (equality, \u2264 20). ' +
      'Options: `badge` (`none`, default, or `increment`), `includeOnline` (default false), ' +
      '`rate` (users per second over all partitions, 1\u2013100,000, default 1,000), `sendAt` ' +
      '(\u2264 30 days ahead). Routing walks the users each instance holds, at the rate, with a ' +
      'checkpoint per slice (exactly once). 202 with the task id and its status route in ' +
      '`Location` (served by delivery-reports) once Kafka stored the task.',
    body: () => {
      const json = z.toJSONSchema(PushTaskRequestSchema, {
        io: 'input',
        unrepresentable: 'any',
      }) as JsonSchema;
      delete json.$schema;
      return json;
    },
    bodyDescription: 'The task: content, audience, options.',
    response: {
      type: 'object',
      properties: {
        taskId: { type: 'string', format: 'uuid' },
        status: { type: 'string', const: 'accepted' },
      },
      required: ['taskId', 'status'],
    },
    responseHeaders: {
      Location: {
        description: 'The task\u2019s status route (`GET /v1/apps/{appId}/pushes/{taskId}`).',
        schema: { type: 'string' },
      },
    },
    problems: {
      413: 'The task\u2019s record for one partition cannot fit push.task.v1.',
      503: 'Kafka could not store the task (retry: a new task id is assigned).',
    },
  },
  'DELETE /v1/apps/{appId}/pushes/{taskId}': {
    tag: 'routing',
    summary: 'Stop a push task (`?revoke=true`: and revoke what it sent)',
    description:
      'Every partition stops the task at its next slice (state `stopped`). With `revoke=true` ' +
      'every user the task pushed gets a replacement (the same apns-collapse-id / Android tag) or, ' +
      'with the app\u2019s `recall.mode: silent`, a background push, exactly like a recalled ' +
      'message. 202 once Kafka stored the stop.',
    response: {
      type: 'object',
      properties: {
        taskId: { type: 'string', format: 'uuid' },
        status: { type: 'string', const: 'stopping' },
      },
      required: ['taskId', 'status'],
    },
    problems: { 503: 'Kafka could not store the stop (retry).' },
  },
  'GET /health/live': {
    tag: 'operations',
    summary: 'Liveness: the process answers (nothing external is checked)',
    response: {
      type: 'object',
      properties: { status: { const: 'ok' } },
      required: ['status'],
    },
  },
  'GET /health/ready': {
    tag: 'operations',
    summary: 'Readiness: every dependency answers (503 naming the failing one)',
    response: { type: 'object', description: 'Terminus health check result.' },
    responses: {
      503: {
        description: 'Not ready: the same result, the failing dependency named under `error`.',
        schema: { type: 'object' },
      },
    },
  },
  'GET /metrics': {
    tag: 'operations',
    summary: 'Prometheus metrics (text exposition format)',
    response: { type: 'string' },
    responseType: 'text/plain',
  },
  'GET /v1/apps/{appId}/messages/{messageId}/outcomes': {
    tag: reports,
    summary: "Every recipient device's final outcome of a message, by user",
    description: PAGING,
    response: OUTCOME_PAGE,
    problems: { 503: DATABASE_DOWN },
  },
  'GET /v1/apps/{appId}/pushes/{taskId}': {
    tag: reports,
    summary: 'A push task\u2019s state and counts',
    description:
      '`state`: scheduled, running, done or stopped; `partitions`: done and total; `targeted` ' +
      'and `decided` users from routing\u2019s checkpoints; `sent`, `suppressed`, `failed` ' +
      'devices from the stored outcomes; `revoke` after a revoke.',
    response: { type: 'object' },
    problems: {
      404: 'No progress of the task yet (unknown, or not read by routing yet).',
      503: DATABASE_DOWN,
    },
  },
  'GET /v1/apps/{appId}/users/{userId}/outcomes': {
    tag: reports,
    summary: "A user's recent outcomes, newest first: what was pushed, and why the rest was not",
    description: `${PAGING} \`since\` (ISO 8601): decided at or after (default: all kept).`,
    response: OUTCOME_PAGE,
    problems: { 503: DATABASE_DOWN },
  },
  'GET /v1/apps/{appId}/stats': {
    tag: reports,
    summary: 'Outcome counts and latency per UTC minute, hour or day, from the per-minute rollups',
    description:
      'Query: `interval` (minute, hour, day; default hour), `from` (rounded down), `to` (rounded ' +
      'up; default now), at most 1,440 / 744 / 400 buckets; `groupBy`: a comma-separated set of ' +
      'provider, status, reason. At most 10,000 rows.',
    response: {
      type: 'object',
      properties: {
        appId: { type: 'string' },
        from: { type: 'string', format: 'date-time' },
        to: { type: 'string', format: 'date-time' },
        interval: { type: 'string', enum: ['minute', 'hour', 'day'] },
        groupBy: { type: 'array', items: { type: 'string' } },
        total: { type: 'integer' },
        rows: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              bucket: { type: 'string', format: 'date-time' },
              provider: { type: ['string', 'null'] },
              status: { type: 'string' },
              reason: { type: ['string', 'null'] },
              count: { type: 'integer' },
              latencyAvgMs: { type: ['number', 'null'] },
              latencyMaxMs: { type: ['number', 'null'] },
            },
            required: ['bucket', 'count', 'latencyAvgMs', 'latencyMaxMs'],
          },
        },
      },
      required: ['appId', 'from', 'to', 'interval', 'groupBy', 'total', 'rows'],
    },
    problems: { 503: DATABASE_DOWN },
  },
};
