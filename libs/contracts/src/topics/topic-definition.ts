import type { ZodType } from 'zod';

export type CleanupPolicy = 'delete' | 'compact';

/**
 * A topic, its key and the schema of its values. Handlers and producers take one of these, never a
 * topic-name string, so that a value cannot be sent to or read from a topic without its schema.
 */
export interface TopicDefinition<TValue, TInput = TValue> {
  readonly name: string;
  /** Put in the `event-type` header of every record. */
  readonly eventType: string;
  readonly cleanup: CleanupPolicy;
  /** Topics that share a key space must share the partition count (see `partitions` in the docs). */
  readonly keySpace: 'user' | 'conversation' | 'source';
  readonly schema: ZodType<TValue, TInput>;
  readonly key: (value: TValue) => string;
  /** Extra topic configuration applied on creation. */
  readonly config?: Readonly<Record<string, string>>;
}

export function defineTopic<TValue, TInput = TValue>(
  def: TopicDefinition<TValue, TInput>,
): TopicDefinition<TValue, TInput> {
  return Object.freeze(def);
}

export const userKey = (v: { appId: string; userId: string }): string => `${v.appId}:${v.userId}`;

/** The app and user of a `userKey` (app ids have no `:`; a user id may). */
export function parseUserKey(key: string): { appId: string; userId: string } {
  const sep = key.indexOf(':');
  return { appId: key.slice(0, sep), userId: key.slice(sep + 1) };
}
