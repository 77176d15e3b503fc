import type { PresenceDeviceEvent, PresenceUserState } from '@app/contracts';
import { ConsumerRunner, type ConsumedRecord, type EventProducer } from '@app/kafka';
import type { Kafka } from 'kafkajs';
import type { PresenceService } from './presence.service';
import type { PresenceTopics } from './presence.topics';

/**
 * The presence consumer group: device events in, co-partitioned with the compacted snapshot
 * topic, which is read back as the changelog on every assignment (input partition N waits until
 * changelog partition N is read).
 */
export function createPresenceRunner(
  kafka: Kafka,
  producer: EventProducer,
  presence: PresenceService,
  groupId: string,
  topics: PresenceTopics,
): ConsumerRunner {
  return new ConsumerRunner(kafka, producer, {
    groupId,
    copartitioned: true,
    onAssigned: (partitions) => presence.store.assign(partitions, Date.now()),
    subscriptions: [
      {
        topic: topics.userState,
        role: 'state',
        handle: (rs: ConsumedRecord<PresenceUserState>[], { partition }) =>
          presence.onSnapshots(rs, partition),
      },
      {
        topic: topics.deviceEvent,
        handle: (rs: ConsumedRecord<PresenceDeviceEvent>[], { partition }) =>
          presence.onDeviceEvents(rs, partition),
      },
    ],
  });
}
