import {
  ImConversationReadSchema,
  ImMessageRecalledSchema,
  type ImConversationRead,
  type ImMessageRecalled,
} from '@app/contracts';
import { parseStrict } from './message-body.util';

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
