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

/** The largest `liveActivity.contentState`, as JSON (UTF-8 bytes): well inside APNs' 4 KB payload. */
export const MAX_CONTENT_STATE_BYTES = 2048;
/** The most live-activity tokens (device ids) one message may name. */
export const MAX_ACTIVITY_IDS = 20;
/** Unix seconds up to 2100-01-01: a date in seconds, not in milliseconds by mistake. */
const UnixSecondsSchema = z.number().int().min(0).max(4102444800);

/**
 * A Live Activity update or end (APNs push type `liveactivity`): `aps.event`, `content-state`,
 * `stale-date`, `dismissal-date` (end only), `relevance-score`, an optional alert. It goes only to
 * the user's live-activity tokens (`pushType: liveactivity`), all of them or those in
 * `activityIds` (device ids).
 */
export const LiveActivitySchema = z
  .object({
    event: z.enum(['update', 'end']),
    contentState: z.record(z.string(), z.unknown()),
    staleDate: UnixSecondsSchema.nullish(),
    dismissalDate: UnixSecondsSchema.nullish(),
    relevanceScore: z.number().min(0).max(100).nullish(),
    activityIds: z.array(IdSchema).min(1).max(MAX_ACTIVITY_IDS).nullish(),
    alert: z.object({ title: z.string().max(512), body: z.string().max(2048) }).nullish(),
  })
  .superRefine((v, ctx) => {
    const bytes = Buffer.byteLength(JSON.stringify(v.contentState), 'utf8');
    if (bytes > MAX_CONTENT_STATE_BYTES) {
      ctx.addIssue({
        code: 'custom',
        path: ['contentState'],
        message: `at most ${MAX_CONTENT_STATE_BYTES} bytes of JSON (is ${bytes})`,
      });
    }
    if (v.dismissalDate != null && v.event !== 'end') {
      ctx.addIssue({
        code: 'custom',
        path: ['dismissalDate'],
        message: 'only with event "end"',
      });
    }
  });
export type LiveActivity = z.infer<typeof LiveActivitySchema>;

/** A localisation key of the app's strings file (APNs `loc-key`, FCM `*_loc_key`). */
const LocKeySchema = withoutControlCharacters(z.string().min(1).max(256));
/** The arguments of a localisation key: at most 20 strings of at most 512 characters. */
const LocArgsSchema = z.array(z.string().max(512)).max(20);

/** The most entries of `offlinePush.localized`. */
export const MAX_LOCALIZED_ENTRIES = 50;

/**
 * A locale key of `offlinePush.localized`: a BCP 47-like tag (`en`, `zh-Hant`, `zh-Hant-TW`,
 * `pt_BR`: a 2–8 letter language, then subtags of 1–8 letters or digits, separated by `-` or
 * `_`), at most 35 characters like a device's `locale`, or `default`.
 */
export const LocaleKeySchema = z
  .string()
  .max(35)
  .regex(
    /^(default|[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*)$/,
    'a BCP 47 language tag such as en, zh-Hant or zh-Hant-TW, or default',
  );

/** Title and text of one language; `desc` replaces the message text like `offlinePush.desc`. */
export const LocalizedTextSchema = z.object({
  title: z.string().max(512).nullish(),
  desc: z.string().max(4096).nullish(),
});
export type LocalizedText = z.infer<typeof LocalizedTextSchema>;

export const LocalizedTextsSchema = z
  .record(LocaleKeySchema, LocalizedTextSchema)
  .refine((r) => Object.keys(r).length <= MAX_LOCALIZED_ENTRIES, {
    message: `at most ${MAX_LOCALIZED_ENTRIES} locales`,
  });

/** Web Push `Urgency` header values (RFC 8030). */
export const WebPushUrgencySchema = z.enum(['very-low', 'low', 'normal', 'high']);
export type WebPushUrgency = z.infer<typeof WebPushUrgencySchema>;

/** Devices with platform `web` / `desktop` sent through FCM (the `webpush` block). */
export const WebOfflinePushSchema = z.object({
  /** Opened when the notification is clicked (FCM `webpush.fcm_options.link`). */
  link: ImageUrlSchema.nullish(),
  icon: ImageUrlSchema.nullish(),
  urgency: WebPushUrgencySchema.nullish(),
});

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
  /** Tencent's `iOSPushType`: `voip` makes the message a call (VoIP devices only); absent: alert. */
  pushType: z.enum(['alert', 'voip']).nullish(),
  /** `apns-priority`; absent: 10 (5 for background devices, which Apple requires). */
  priority: z.union([z.literal(5), z.literal(10)]).nullish(),
  liveActivity: LiveActivitySchema.nullish(),
  // Localisation (issue 15, content): `aps.alert` loc-key / loc-args / title-loc-key / title-loc-args.
  locKey: LocKeySchema.nullish(),
  locArgs: LocArgsSchema.nullish(),
  titleLocKey: LocKeySchema.nullish(),
  titleLocArgs: LocArgsSchema.nullish(),
});

export const AndroidOfflinePushSchema = z.object({
  title: z.string().max(512).nullish(),
  sound: MessageSoundSchema.nullish(),
  channelId: z.string().max(256).nullish(),
  priority: z.enum(['high', 'normal']).nullish(),
  image: ImageUrlSchema.nullish(),
  collapseKey: z.string().max(256).nullish(),
  // Localisation and data-only (issue 15, content): android.notification *_loc_key / *_loc_args.
  titleLocKey: LocKeySchema.nullish(),
  titleLocArgs: LocArgsSchema.nullish(),
  bodyLocKey: LocKeySchema.nullish(),
  bodyLocArgs: LocArgsSchema.nullish(),
  /** No `notification` block: the app renders the push itself from `data`. */
  dataOnly: z.boolean().nullish(),
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
  /** Per-locale title and text, picked by the device's `locale` (fallback zh-Hant-TW → zh-Hant → zh → default). */
  localized: LocalizedTextsSchema.nullish(),
  web: WebOfflinePushSchema.nullish(),
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
    const apns = v.offlinePush?.apns;
    if (apns?.pushType === 'voip' && apns.liveActivity) {
      ctx.addIssue({
        code: 'custom',
        path: ['offlinePush', 'apns', 'liveActivity'],
        message: 'a call (pushType "voip") cannot also update a Live Activity',
      });
    }
    if (apns?.pushType === 'voip' && apns.priority === 5) {
      ctx.addIssue({
        code: 'custom',
        path: ['offlinePush', 'apns', 'priority'],
        message: 'a call (pushType "voip") is sent with priority 10',
      });
    }
    if (v.conversation.type === 'c2c' && (!v.recipients || v.recipients.length !== 1)) {
      ctx.addIssue({
        code: 'custom',
        path: ['recipients'],
        message: 'a c2c message has exactly one recipient (the peer)',
      });
    }
  });
export type ImMessageSent = z.infer<typeof ImMessageSentSchema>;
