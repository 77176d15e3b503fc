import { z } from 'zod';
import { IdSchema, IsoDateSchema, withoutControlCharacters } from './common.schema';

/** A notification sound named by a message: a file name, no control characters. */
const MessageSoundSchema = withoutControlCharacters(z.string().max(256));

/**
 * An image shown in the notification: an `https` URL only (APNs and FCM fetch it from the device;
 * `http`, `data:`, `file:` or `javascript:` have no business there).
 */
export const ImageUrlSchema = z.url({ protocol: /^https$/, error: 'an https:// URL' }).max(2048);

/** The most recipients one message may list (a group's fan-out reads the membership instead). */
export const MAX_RECIPIENTS = 100000;

/** One message element, modelled on Tencent IM's MsgBody elements. */
export const MessageElementSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text: z.string().max(12000) }),
  z.object({
    type: z.literal('custom'),
    desc: z.string().max(12000).optional().default(''),
    ext: z.string().max(8192).nullish(),
    sound: MessageSoundSchema.nullish(),
    data: z.string().max(12000).nullish(),
  }),
  z.object({ type: z.literal('image') }).loose(),
  z.object({ type: z.literal('audio') }).loose(),
  z.object({ type: z.literal('video') }).loose(),
  z.object({ type: z.literal('file') }).loose(),
  z.object({ type: z.literal('location') }).loose(),
  z.object({ type: z.literal('face') }).loose(),
]);
export type MessageElement = z.infer<typeof MessageElementSchema>;

export const ApnsOfflinePushSchema = z.object({
  title: z.string().max(512).nullish(),
  subTitle: z.string().max(512).nullish(),
  sound: MessageSoundSchema.nullish(),
  badgeMode: z.union([z.literal(0), z.literal(1)]).nullish(),
  image: ImageUrlSchema.nullish(),
  mutableContent: z.union([z.literal(0), z.literal(1)]).nullish(),
  interruptionLevel: z.enum(['passive', 'active', 'time-sensitive', 'critical']).nullish(),
  contentAvailable: z.union([z.literal(0), z.literal(1)]).nullish(),
  collapseId: z.string().max(64).nullish(),
});

export const AndroidOfflinePushSchema = z.object({
  title: z.string().max(512).nullish(),
  sound: MessageSoundSchema.nullish(),
  channelId: z.string().max(256).nullish(),
  priority: z.enum(['high', 'normal']).nullish(),
  image: ImageUrlSchema.nullish(),
  collapseKey: z.string().max(256).nullish(),
});

export const OfflinePushSchema = z.object({
  pushFlag: z.union([z.literal(0), z.literal(1)]).nullish(),
  title: z.string().max(512).nullish(),
  desc: z.string().max(12000).nullish(),
  ext: z.string().max(8192).nullish(),
  badgeAddNum: z.number().int().min(1).max(99).nullish(),
  badgeSetNum: z.number().int().min(0).max(999).nullish(),
  bypassMute: z.boolean().nullish(),
  apns: ApnsOfflinePushSchema.nullish(),
  android: AndroidOfflinePushSchema.nullish(),
});
export type OfflinePush = z.infer<typeof OfflinePushSchema>;

export const ConversationTypeSchema = z.enum(['c2c', 'group']);
export type ConversationType = z.infer<typeof ConversationTypeSchema>;

export const ImMessageSentSchema = z
  .object({
    appId: IdSchema,
    messageId: withoutControlCharacters(z.string().min(1).max(256)),
    sentAt: IsoDateSchema,
    conversation: z.object({
      type: ConversationTypeSchema,
      id: IdSchema,
      name: z.string().max(512).nullish(),
    }),
    sender: z.object({
      userId: IdSchema,
      nickname: z.string().max(512).nullish(),
      nameCard: z.string().max(512).nullish(),
    }),
    recipients: z.array(IdSchema).max(MAX_RECIPIENTS).nullish(),
    elements: z.array(MessageElementSchema).min(1).max(100),
    mentions: z
      .object({
        all: z.boolean().optional().default(false),
        userIds: z.array(IdSchema).max(1000).optional().default([]),
      })
      .nullish(),
    offlinePush: OfflinePushSchema.nullish(),
    ttlSeconds: z.number().int().min(0).max(2419200).optional().default(604800),
  })
  .superRefine((v, ctx) => {
    if (v.conversation.type === 'c2c' && (!v.recipients || v.recipients.length !== 1)) {
      ctx.addIssue({
        code: 'custom',
        path: ['recipients'],
        message: 'a c2c message has exactly one recipient (the peer)',
      });
    }
  });
export type ImMessageSent = z.infer<typeof ImMessageSentSchema>;
