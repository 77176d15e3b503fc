import { DeadLetterSchema } from '../events/dead-letter.event';
import { ImGroupMembersSchema } from '../events/im-group-members.event';
import { ImMessageSentSchema } from '../events/im-message-sent.event';
import { ImConversationReadSchema, ImMessageRecalledSchema } from '../events/im-lifecycle.event';
import { PresenceDeviceEventSchema, PresenceUserStateSchema } from '../events/presence.event';
import {
  ApnsRequestSchema,
  FcmRequestSchema,
  PushIntentEventSchema,
  PushOutcomeSchema,
  TokenInvalidatedSchema,
} from '../events/push.event';
import { TokenUserDevicesSchema } from '../events/token-user-devices.event';
import { BadgeStateSchema } from '../events/badge-state.event';
import { PushTaskSchema, TaskControlSchema, TaskProgressSchema } from '../events/push-task.event';
import { WebhookDeliverySchema } from '../events/webhook.event';
import { defineTopic, userKey } from './topic-definition';

const COMPACT = { 'min.compaction.lag.ms': '0', 'segment.ms': '3600000' } as const;

export const TOPICS = {
  imMessageSent: defineTopic({
    name: 'im.message.sent.v1',
    eventType: 'im.message.sent',
    cleanup: 'delete',
    keySpace: 'conversation',
    schema: ImMessageSentSchema,
    key: (v) => `${v.appId}:${v.conversation.type}:${v.conversation.id}`,
  }),
  imMessageRecalled: defineTopic({
    name: 'im.message.recalled.v1',
    eventType: 'im.message.recalled',
    cleanup: 'delete',
    keySpace: 'conversation',
    schema: ImMessageRecalledSchema,
    // The message's key: the recall is read by the fan-out instance that holds the message's group.
    key: (v) => `${v.appId}:${v.conversation.type}:${v.conversation.id}`,
  }),
  imConversationRead: defineTopic({
    name: 'im.conversation.read.v1',
    eventType: 'im.conversation.read',
    cleanup: 'delete',
    keySpace: 'user',
    schema: ImConversationReadSchema,
    key: userKey,
  }),
  imGroupMembers: defineTopic({
    name: 'im.group-members.v1',
    eventType: 'im.group-members',
    cleanup: 'compact',
    keySpace: 'conversation',
    schema: ImGroupMembersSchema,
    key: (v) => `${v.appId}:group:${v.groupId}`,
    // A 100,000-member group is about 1.5 MB of JSON.
    config: { ...COMPACT, 'max.message.bytes': '8388608' },
  }),
  presenceDeviceEvent: defineTopic({
    name: 'presence.device-event.v1',
    eventType: 'presence.device-event',
    cleanup: 'delete',
    keySpace: 'user',
    schema: PresenceDeviceEventSchema,
    key: userKey,
  }),
  presenceUserState: defineTopic({
    name: 'presence.user-state.v1',
    eventType: 'presence.user-state',
    cleanup: 'compact',
    keySpace: 'user',
    schema: PresenceUserStateSchema,
    key: userKey,
    config: COMPACT,
  }),
  tokenUserDevices: defineTopic({
    name: 'token.user-devices.v1',
    eventType: 'token.user-devices',
    cleanup: 'compact',
    keySpace: 'user',
    schema: TokenUserDevicesSchema,
    key: userKey,
    config: COMPACT,
  }),
  pushIntent: defineTopic({
    name: 'push.intent.v1',
    eventType: 'push.intent',
    cleanup: 'delete',
    keySpace: 'user',
    schema: PushIntentEventSchema,
    key: userKey,
  }),
  routingBadgeState: defineTopic({
    name: 'routing.badge-state.v1',
    eventType: 'routing.badge-state',
    cleanup: 'compact',
    keySpace: 'user',
    schema: BadgeStateSchema,
    key: userKey,
    config: COMPACT,
  }),
  apnsRequest: defineTopic({
    name: 'push.apns.request.v1',
    eventType: 'push.apns.request',
    cleanup: 'delete',
    keySpace: 'user',
    schema: ApnsRequestSchema,
    key: userKey,
  }),
  apnsRetry: defineTopic({
    name: 'push.apns.retry.v1',
    eventType: 'push.apns.retry',
    cleanup: 'delete',
    keySpace: 'user',
    schema: ApnsRequestSchema,
    key: userKey,
  }),
  fcmRequest: defineTopic({
    name: 'push.fcm.request.v1',
    eventType: 'push.fcm.request',
    cleanup: 'delete',
    keySpace: 'user',
    schema: FcmRequestSchema,
    key: userKey,
  }),
  fcmRetry: defineTopic({
    name: 'push.fcm.retry.v1',
    eventType: 'push.fcm.retry',
    cleanup: 'delete',
    keySpace: 'user',
    schema: FcmRequestSchema,
    key: userKey,
  }),
  pushOutcome: defineTopic({
    name: 'push.outcome.v1',
    eventType: 'push.outcome',
    cleanup: 'delete',
    keySpace: 'user',
    schema: PushOutcomeSchema,
    key: userKey,
  }),
  tokenInvalidated: defineTopic({
    name: 'token.invalidated.v1',
    eventType: 'token.invalidated',
    cleanup: 'delete',
    keySpace: 'user',
    schema: TokenInvalidatedSchema,
    key: userKey,
  }),
  webhookRetry: defineTopic({
    name: 'push.webhook.retry.v1',
    eventType: 'push.webhook.retry',
    cleanup: 'delete',
    keySpace: 'webhook',
    schema: WebhookDeliverySchema,
    key: (v) => `${v.appId}:${v.webhook.urlHash}`,
    // At least WEBHOOK_MAX_AGE_SECONDS' cap (7 days): a parked delivery is never deleted unsent.
    config: { 'retention.ms': String(7 * 24 * 3600 * 1000) },
  }),
  pushTask: defineTopic({
    name: 'push.task.v1',
    eventType: 'push.task',
    cleanup: 'delete',
    // Written to an explicit partition (one record per partition of the decide stage).
    keySpace: 'task',
    schema: PushTaskSchema,
    key: (v) => v.taskId,
    // A listed audience of 100,000 ids of up to 128 characters may all hash to one partition.
    config: { 'max.message.bytes': '16777216' },
  }),
  routingTaskProgress: defineTopic({
    name: 'routing.task-progress.v1',
    eventType: 'routing.task-progress',
    cleanup: 'compact',
    keySpace: 'task',
    schema: TaskProgressSchema,
    key: (v) => `${v.taskId}:${v.partition}`,
    config: COMPACT,
  }),
  pushTaskControl: defineTopic({
    name: 'push.task-control.v1',
    eventType: 'push.task-control',
    cleanup: 'delete',
    keySpace: 'task',
    schema: TaskControlSchema,
    key: (v) => v.taskId,
  }),
  deadLetter: defineTopic({
    name: 'push.dead-letter.v1',
    eventType: 'push.dead-letter',
    cleanup: 'delete',
    keySpace: 'source',
    schema: DeadLetterSchema,
    key: (v) => v.source.key ?? `${v.source.topic}:${v.source.partition}`,
    config: { 'retention.ms': String(30 * 24 * 3600 * 1000) },
  }),
} as const;

export type TopicKey = keyof typeof TOPICS;
export const ALL_TOPICS = Object.values(TOPICS);
