import {
  TOPICS,
  type PresenceDeviceEvent,
  type PresenceUserState,
  type TopicDefinition,
} from '@app/contracts';

/** The two topics presence works on: the contract ones, or a benchmark's own copies of them. */
export interface PresenceTopics {
  deviceEvent: TopicDefinition<PresenceDeviceEvent, unknown>;
  userState: TopicDefinition<PresenceUserState, unknown>;
}

export const PRESENCE_TOPICS = Symbol('PRESENCE_TOPICS');

export const CONTRACT_TOPICS: PresenceTopics = {
  deviceEvent: TOPICS.presenceDeviceEvent,
  userState: TOPICS.presenceUserState,
};
