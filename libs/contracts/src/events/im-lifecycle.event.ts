import { z } from 'zod';
import { IdSchema, IsoDateSchema, withoutControlCharacters } from './common.schema';
import { ConversationTypeSchema, MAX_RECIPIENTS } from './im-message-sent.event';

/** A conversation named by a lifecycle event (no display name: nothing is rendered from it). */
export const ConversationRefSchema = z.object({ type: ConversationTypeSchema, id: IdSchema });
export type ConversationRef = z.infer<typeof ConversationRefSchema>;

/**
 * `im.message.recalled.v1`: the sender took a message back. Keyed like the message
 * (`appId:conversationType:conversationId`), so it is read by the fan-out instance that fanned the
 * message out, with the group's membership. `recipients` as for messages: a c2c recall names
 * exactly the peer; a group recall leaves it out (the members are read from the membership).
 */
export const ImMessageRecalledSchema = z
  .object({
    appId: IdSchema,
    messageId: withoutControlCharacters(z.string().min(1).max(256)),
    conversation: ConversationRefSchema,
    /** Who recalled it (the sender): gets no intent, like the sender of a message. */
    senderId: IdSchema.nullish(),
    recipients: z.array(IdSchema).max(MAX_RECIPIENTS).nullish(),
    recalledAt: IsoDateSchema,
  })
  .superRefine((v, ctx) => {
    if (v.conversation.type === 'c2c' && (!v.recipients || v.recipients.length !== 1)) {
      ctx.addIssue({
        code: 'custom',
        path: ['recipients'],
        message: 'a c2c recall has exactly one recipient (the peer)',
      });
    }
  });
export type ImMessageRecalled = z.infer<typeof ImMessageRecalledSchema>;

/**
 * `im.conversation.read.v1`: a user read a conversation up to now on one device. Keyed by user
 * (`appId:userId`, co-partitioned with push.intent.v1 and routing's state). The conversation is
 * the reader's view: a c2c conversation's id is the peer.
 */
export const ImConversationReadSchema = z.object({
  appId: IdSchema,
  userId: IdSchema,
  conversation: ConversationRefSchema,
  readAt: IsoDateSchema,
  /** The device it was read on: it gets no read-sync push (it knows already). */
  deviceId: IdSchema.nullish(),
});
export type ImConversationRead = z.infer<typeof ImConversationReadSchema>;
