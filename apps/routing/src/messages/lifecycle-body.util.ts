import {
  ImConversationReadSchema,
  ImMessageRecalledSchema,
  type ImConversationRead,
  type ImMessageRecalled,
} from '@app/contracts';
import { ValidationProblem } from '@app/http';
import type { z } from 'zod';
import { unknownFields } from './message-body.util';

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A body completed with the path's ids (which the body must not contradict) and parsed strictly:
 * schema errors and unknown fields are 400s naming each field.
 */
function parseStrict<T>(
  schema: z.ZodType<T>,
  body: unknown,
  fromPath: Record<string, string>,
  defaults: Record<string, unknown>,
): T {
  if (!isPlainObject(body)) {
    throw new ValidationProblem([{ field: '(body)', message: 'a JSON object' }]);
  }
  const clashes = Object.entries(fromPath).filter(
    ([k, v]) => body[k] !== undefined && body[k] !== v,
  );
  if (clashes.length) {
    throw new ValidationProblem(
      clashes.map(([field, v]) => ({ field, message: `must be ${v}, the path's (or left out)` })),
    );
  }
  const input = { ...defaults, ...body, ...fromPath };
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new ValidationProblem(
      result.error.issues.map((i) => ({
        field: i.path.length ? i.path.join('.') : '(body)',
        message: i.message,
      })),
    );
  }
  const unknown = unknownFields(input, result.data);
  if (unknown.length) {
    throw new ValidationProblem(unknown.map((field) => ({ field, message: 'unknown field' })));
  }
  return result.data;
}

/**
 * `POST /v1/apps/{appId}/messages/{messageId}/recall`: `{ conversation, recipients? (c2c: the
 * peer), senderId?, recalledAt? (default now) }`, an `im.message.recalled.v1` event.
 */
export const parseRecallBody = (
  appId: string,
  messageId: string,
  body: unknown,
  now: Date,
): ImMessageRecalled =>
  parseStrict(
    ImMessageRecalledSchema,
    body,
    { appId, messageId },
    { recalledAt: now.toISOString() },
  );

/**
 * `POST /v1/apps/{appId}/users/{userId}/conversations/read`: `{ conversation, deviceId?,
 * readAt? (default now) }`, an `im.conversation.read.v1` event.
 */
export const parseReadBody = (
  appId: string,
  userId: string,
  body: unknown,
  now: Date,
): ImConversationRead =>
  parseStrict(ImConversationReadSchema, body, { appId, userId }, { readAt: now.toISOString() });
