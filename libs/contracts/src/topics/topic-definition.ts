import type { ZodType } from 'zod';

export type CleanupPolicy = 'delete' | 'compact';

/**
 * A topic, its key and the schema of its values. Handlers and producers take one of these, never a
 * topic-name string, so that a value cannot be sent to or read from a topic without its schema.
 */
/**
 * A topic as code knows it. `C` is its cleanup policy as a literal type: a consumer of a `delete`
 * topic gets non-null values; only a `compact` topic's records can be tombstones (null).
 */
export interface TopicDefinition<TValue, TInput = TValue, C extends CleanupPolicy = CleanupPolicy> {
  readonly name: string;
  /** Put in the `event-type` header of every record. */
  readonly eventType: string;
  readonly cleanup: C;
  /** Topics that share a key space must share the partition count (see `partitions` in the docs). */
  readonly keySpace: 'user' | 'conversation' | 'source' | 'webhook' | 'task';
  readonly schema: ZodType<TValue, TInput>;
  /**
   * The record key for a value. Method syntax on purpose: a topic of a specific value type is then
   * usable where any topic is (a list of topics, a subscription), without casts.
   */
  key(value: TValue): string;
  /** Extra topic configuration applied on creation. */
  readonly config?: Readonly<Record<string, string>>;
}

export function defineTopic<TValue, TInput, const C extends CleanupPolicy>(
  // The value type comes from the schema, never from the key function's parameter.
  def: Omit<TopicDefinition<TValue, TInput, C>, 'key'> & {
    key: (value: NoInfer<TValue>) => string;
  },
): TopicDefinition<TValue, TInput, C> {
  return Object.freeze(def);
}

export const userKey = (v: { appId: string; userId: string }): string => `${v.appId}:${v.userId}`;

/** The app and user of a `userKey` (app ids have no `:`; a user id may). */
export function parseUserKey(key: string): { appId: string; userId: string } {
  const sep = key.indexOf(':');
  return { appId: key.slice(0, sep), userId: key.slice(sep + 1) };
}
