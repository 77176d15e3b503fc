import { z } from 'zod';
import { IdSchema, IsoDateSchema } from './common.schema';
import { MAX_RECIPIENTS, OfflinePushSchema } from './im-message-sent.event';
import {
  MAX_USER_ATTRIBUTES,
  UserAttributeKeySchema,
  UserAttributeValueSchema,
  UserTagSchema,
} from './token-user-devices.event';

/** The most user ids one push may list (like a message's recipients). */
export const MAX_TASK_USER_IDS = MAX_RECIPIENTS;
/** The most tags a tag audience may name (each of `and` and `or`). */
export const MAX_AUDIENCE_TAGS = 10;
/** Pushes (users) per second of one task, over all partitions. */
export const MAX_TASK_RATE = 100_000;
export const DEFAULT_TASK_RATE = 1000;
/** How far ahead `sendAt` may be (30 days). */
export const MAX_SEND_AHEAD_SECONDS = 30 * 86400;

/**
 * Who gets a push task: listed users, every user of the app, users with tags (`and`: all of them,
 * `or`: at least one; both given: both hold), or users whose string attributes equal all given.
 */
export const PushAudienceSchema = z.union([
  z.object({ userIds: z.array(IdSchema).min(1).max(MAX_TASK_USER_IDS) }).strict(),
  z.object({ all: z.literal(true) }).strict(),
  z
    .object({
      tags: z
        .object({
          and: z.array(UserTagSchema).min(1).max(MAX_AUDIENCE_TAGS).optional(),
          or: z.array(UserTagSchema).min(1).max(MAX_AUDIENCE_TAGS).optional(),
        })
        .strict()
        .refine((t) => t.and !== undefined || t.or !== undefined, {
          message: 'name tags in "and" or "or"',
        }),
    })
    .strict(),
  z
    .object({
      attributes: z
        .record(UserAttributeKeySchema, UserAttributeValueSchema)
        .refine((a) => Object.keys(a).length >= 1 && Object.keys(a).length <= MAX_USER_ATTRIBUTES, {
          message: `1–${MAX_USER_ATTRIBUTES} attributes`,
        }),
    })
    .strict(),
]);
export type PushAudience = z.infer<typeof PushAudienceSchema>;

export const PushTaskOptionsSchema = z
  .object({
    /** `none` (Tencent's default): the push changes no badge; `increment`: +1 like a message. */
    badge: z.enum(['none', 'increment']).default('none'),
    /** Online devices get it too (the online rules are skipped; mute, DND and snooze still hold). */
    includeOnline: z.boolean().default(false),
    /** Users per second over all partitions. */
    rate: z.number().int().min(1).max(MAX_TASK_RATE).default(DEFAULT_TASK_RATE),
    /** Not before this time. */
    sendAt: IsoDateSchema.nullish(),
  })
  .strict();
export type PushTaskOptions = z.infer<typeof PushTaskOptionsSchema>;

/** `POST /v1/apps/{appId}/pushes`: what the caller sends. */
export const PushTaskRequestSchema = z
  .object({
    /** The content, as a message's `offlinePush` (title, desc, ext, sounds, images, localized…). */
    offlinePush: OfflinePushSchema,
    audience: PushAudienceSchema,
    options: PushTaskOptionsSchema.default({
      badge: 'none',
      includeOnline: false,
      rate: DEFAULT_TASK_RATE,
    }),
    /** Shown like a message's sender (c2c conversation `from`); absent: `system`. */
    from: IdSchema.nullish(),
    fromNickname: z.string().max(512).nullish(),
    ttlSeconds: z.number().int().min(0).max(2419200).default(604800),
  })
  .strict()
  .superRefine((v, ctx) => {
    const op = v.offlinePush;
    if (!op.desc) {
      ctx.addIssue({
        code: 'custom',
        path: ['offlinePush', 'desc'],
        message: 'a push needs its text (the default language; offlinePush.localized adds others)',
      });
    }
    if (op.pushFlag === 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['offlinePush', 'pushFlag'],
        message: 'a push task is an offline push: pushFlag 1 would suppress it everywhere',
      });
    }
    if (op.apns?.pushType === 'voip' || op.apns?.liveActivity) {
      ctx.addIssue({
        code: 'custom',
        path: ['offlinePush', 'apns'],
        message: 'a push task is a notification: no call (voip) and no Live Activity',
      });
    }
  });
export type PushTaskRequest = z.infer<typeof PushTaskRequestSchema>;

/**
 * `push.task.v1`: one record per partition of the decide stage (explicit partition, key `taskId`),
 * each with the whole task; a listed audience carries only the users of that partition.
 */
export const PushTaskSchema = z.object({
  appId: IdSchema,
  taskId: z.uuid(),
  createdAt: IsoDateSchema,
  /** The partition this record is for, and how many the task was split over. */
  partition: z.number().int().min(0).max(9999),
  partitions: z.number().int().min(1).max(10000),
  /** How many partitions got a record of the task (all, except for a listed audience). */
  records: z.number().int().min(1).max(10000),
  offlinePush: OfflinePushSchema,
  audience: PushAudienceSchema,
  options: PushTaskOptionsSchema,
  from: IdSchema.nullish(),
  fromNickname: z.string().max(512).nullish(),
  ttlSeconds: z.number().int().min(0).max(2419200),
});
export type PushTask = z.infer<typeof PushTaskSchema>;

export const TaskStateSchema = z.enum(['scheduled', 'running', 'done', 'stopped']);
export type TaskState = z.infer<typeof TaskStateSchema>;

/**
 * `routing.task-progress.v1` (compacted, key `taskId:partition`, written to that partition in
 * the transaction of the slice it counts): where the walk of one partition stands.
 */
export const TaskProgressSchema = z.object({
  appId: IdSchema,
  taskId: z.uuid(),
  partition: z.number().int().min(0).max(9999),
  partitions: z.number().int().min(1).max(10000),
  /** The task's `records` (absent on a checkpoint written by a stop before the task was read). */
  records: z.number().int().min(1).max(10000).optional(),
  state: TaskStateSchema,
  /** The last user key walked (`appId:userId`); null before the first. */
  cursor: z.string().max(300).nullable(),
  /** Users the walk reached (matched the audience) and users decided (devices pushed or not). */
  targeted: z.number().int().min(0),
  decided: z.number().int().min(0),
  /** A revoke's walk over the partition's users (after a stop with revoke). */
  revoke: z
    .object({
      cursor: z.string().max(300).nullable(),
      done: z.boolean(),
      /** Users whose devices got a replacement or silent push. */
      users: z.number().int().min(0),
    })
    .optional(),
  seq: z.number().int().min(0),
  updatedAt: IsoDateSchema,
});
export type TaskProgress = z.infer<typeof TaskProgressSchema>;

/**
 * `push.task-control.v1` (key `taskId`, one record on every partition, an input of decide): stop
 * a task, and optionally revoke what it sent.
 */
export const TaskControlSchema = z.object({
  appId: IdSchema,
  taskId: z.uuid(),
  action: z.literal('stop'),
  revoke: z.boolean(),
  partition: z.number().int().min(0).max(9999),
  partitions: z.number().int().min(1).max(10000),
  at: IsoDateSchema,
});
export type TaskControl = z.infer<typeof TaskControlSchema>;

/** Outcomes and requests of a task carry this `messageId`. */
export const taskMessageId = (taskId: string): string => `task:${taskId}`;
