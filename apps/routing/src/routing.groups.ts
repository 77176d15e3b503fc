import { TOPICS } from '@app/contracts';
import { consumerGroup, ensureTopics, withAdmin, type KafkaGroupOptions } from '@app/kafka';
import type { Kafka } from 'kafkajs';
import { routingSettings, type RoutingEnv } from './routing-env.schema';

/** The topics routing reads or writes: created when missing, partition counts checked at boot. */
export const ROUTING_TOPICS = [
  TOPICS.imMessageSent,
  TOPICS.imMessageRecalled,
  TOPICS.imConversationRead,
  TOPICS.imGroupMembers,
  TOPICS.pushIntent,
  TOPICS.presenceUserState,
  TOPICS.tokenUserDevices,
  TOPICS.routingBadgeState,
  TOPICS.pushTask,
  TOPICS.pushTaskControl,
  TOPICS.routingTaskProgress,
  TOPICS.apnsRequest,
  TOPICS.fcmRequest,
  TOPICS.pushOutcome,
  TOPICS.deadLetter,
];

/** im.message.sent.v1 in, group members as state, push.intent.v1 out. */
export const FANOUT_GROUP = consumerGroup('routing-fanout');
/** im.group-members.v1 as an input of its own: a membership keyed as another group is dead-lettered once. */
export const MEMBERSHIP_CHECK_GROUP = consumerGroup('routing-fanout-memberships');
/** push.intent.v1 in, presence, tokens and badges as state, one transaction per batch. */
export const DECIDE_GROUP = consumerGroup('routing-decide');

/** The fan-out's own producer: its chunks never interleave with other sends (see docs/routing.md). */
export const FANOUT_PRODUCER = Symbol('FANOUT_PRODUCER');

/**
 * A routing topic with another partition count would split a user's state: the process stops
 * (`PartitionCountMismatchError`); other failures are retried with the start.
 */
async function ensureRoutingTopics(env: RoutingEnv, kafka: Kafka): Promise<void> {
  const layout = {
    partitions: env.KAFKA_PARTITIONS,
    replicationFactor: env.KAFKA_REPLICATION_FACTOR,
  };
  await withAdmin(kafka, (admin) => ensureTopics(admin, layout, ROUTING_TOPICS));
}

/** The groups this instance runs (ROUTING_FANOUT, ROUTING_DECIDE). */
export function routingGroups(env: RoutingEnv): KafkaGroupOptions[] {
  const prepare = (kafka: Kafka) => ensureRoutingTopics(env, kafka);
  const common = {
    newGroupStart: env.ROUTING_NEW_GROUP_START,
    partitionsConsumedConcurrently: env.ROUTING_PARTITIONS_CONCURRENTLY,
    prepare,
  };
  const fanout: KafkaGroupOptions[] = [
    {
      ...common,
      group: FANOUT_GROUP,
      groupId: env.ROUTING_FANOUT_GROUP,
      copartitioned: true,
      producer: FANOUT_PRODUCER,
    },
    {
      ...common,
      group: MEMBERSHIP_CHECK_GROUP,
      groupId: `${env.ROUTING_FANOUT_GROUP}-memberships`,
      producer: FANOUT_PRODUCER,
    },
  ];
  const decide: KafkaGroupOptions = {
    ...common,
    group: DECIDE_GROUP,
    groupId: env.ROUTING_DECIDE_GROUP,
    copartitioned: true,
    transactional: { idPrefix: env.ROUTING_DECIDE_GROUP },
  };
  return [...(env.ROUTING_FANOUT ? fanout : []), ...(env.ROUTING_DECIDE ? [decide] : [])];
}

/** Decide's group options outside a service (a benchmark, a crash test's child process). */
export const decideGroupOptions = (
  groupId: string,
  extra: Partial<KafkaGroupOptions> = {},
): KafkaGroupOptions => ({
  group: DECIDE_GROUP,
  groupId,
  copartitioned: true,
  transactional: { idPrefix: groupId },
  partitionsConsumedConcurrently: routingSettings({}).ROUTING_PARTITIONS_CONCURRENTLY,
  ...extra,
});
