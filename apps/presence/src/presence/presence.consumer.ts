import { TOPICS, type PresenceDeviceEvent, type PresenceUserState } from '@app/contracts';
import {
  consumerGroup,
  KafkaBatchContext,
  KafkaConsumer,
  OnAssigned,
  OnBatch,
  OnState,
  type ConsumedRecord,
  type HandlerResult,
  type KafkaGroupOptions,
} from '@app/kafka';
import type { PresenceEnv } from '../presence-env.schema';
import { PresenceService } from './presence.service';

/**
 * The presence consumer group: device events in, co-partitioned with the compacted snapshot
 * topic, which is read back as the changelog on every assignment (input partition N waits until
 * changelog partition N is read).
 */
export const PRESENCE_GROUP = consumerGroup('presence');

export const presenceGroup = (env: PresenceEnv): KafkaGroupOptions => ({
  group: PRESENCE_GROUP,
  groupId: env.PRESENCE_CONSUMER_GROUP,
  copartitioned: true,
});

@KafkaConsumer()
export class PresenceConsumer {
  constructor(private readonly presence: PresenceService) {}

  @OnAssigned(PRESENCE_GROUP)
  assigned(partitions: number[]): void {
    this.presence.store.assign(partitions, Date.now());
  }

  @OnState(PRESENCE_GROUP, TOPICS.presenceUserState)
  snapshots(
    records: ConsumedRecord<PresenceUserState, 'compact'>[],
    ctx: KafkaBatchContext,
  ): Promise<void> {
    return this.presence.onSnapshots(records, ctx.partition);
  }

  @OnBatch(PRESENCE_GROUP, TOPICS.presenceDeviceEvent)
  deviceEvents(
    records: ConsumedRecord<PresenceDeviceEvent>[],
    ctx: KafkaBatchContext,
  ): Promise<HandlerResult> {
    return this.presence.onDeviceEvents(records, ctx.partition);
  }
}
