import { applyDecorators, Controller, UseFilters, type Type } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { CleanupPolicy, TopicDefinition } from '@app/contracts';
import type { ConsumedRecord, HandlerResult } from '../consumer.runner';
import type { ConsumerGroup } from './consumer-group';
import type { KafkaBatchContext } from './kafka-batch.context';
import { RethrowToRunner } from './rethrow.filter';

/** What a handler declares: read by the transport (from Nest's pattern extras) and by `@KafkaConsumer`. */
export interface KafkaHandlerMeta {
  group: ConsumerGroup;
  topic: TopicDefinition<unknown, unknown>;
  role: 'input' | 'state';
  /** `@OnState(…, { echoesApplied: true })`: see `Subscription.echoesApplied`. */
  echoesApplied?: boolean;
}

const HANDLER = Symbol('kafka:handler');
const ASSIGNED = Symbol('kafka:assigned');

/**
 * A handler of a batch of one partition of `T`'s topic. `C` is the topic's cleanup policy: values
 * can be null (tombstones) only for a compacted topic.
 */
export type BatchMethod<T, C extends CleanupPolicy> = (
  records: ConsumedRecord<T, C>[],
  ctx: KafkaBatchContext,
) => Promise<HandlerResult | void> | HandlerResult | void;

type Method<T, C extends CleanupPolicy> = <M extends BatchMethod<T, C>>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => void;

function handler<T, C extends CleanupPolicy>(
  group: ConsumerGroup,
  topic: TopicDefinition<T, unknown, C>,
  role: KafkaHandlerMeta['role'],
  echoesApplied?: boolean,
): Method<T, C> {
  const meta: KafkaHandlerMeta = {
    group,
    topic,
    role,
    ...(echoesApplied ? { echoesApplied } : {}),
  };
  const pattern = EventPattern(topic.name, group.transportId, { kafka: meta });
  return (target, key, descriptor) => {
    Reflect.defineMetadata(HANDLER, meta, descriptor.value!);
    pattern(target, key, descriptor);
    // Nest passes a handler only what its parameters declare: the records and the context.
    Payload()(target, key, 0);
    Ctx()(target, key, 1);
  };
}

/**
 * Handles `topic` in `group`: batches of one partition, validated against the topic's schema;
 * returns the records to produce and what to do once they are committed (`HandlerResult`).
 * Throw `RetryableException` to wait and retry (never dead-lettered), `PoisonRecordException` to
 * dead-letter the record(s) at once.
 */
export const OnBatch = <T, C extends CleanupPolicy>(
  group: ConsumerGroup,
  topic: TopicDefinition<T, unknown, C>,
): Method<T, C> => handler(group, topic, 'input');

/**
 * Reads `topic` (compacted) into memory as the group's state: never committed, read again from
 * the start on every assignment; with `copartitioned`, input partition N waits until state
 * partition N is read up to where it stood at assignment. `echoesApplied`: the group's own
 * committed writes to the topic, read back, are skipped (see `Subscription.echoesApplied`).
 */
export const OnState = <T>(
  group: ConsumerGroup,
  topic: TopicDefinition<T, unknown, 'compact'>,
  opts: { echoesApplied?: boolean } = {},
): Method<T, 'compact'> => handler(group, topic, 'state', opts.echoesApplied);

/**
 * Called synchronously with the partition numbers of each new assignment of `group`, before any
 * batch of them (drop the state of partitions that moved away).
 */
export function OnAssigned(group: ConsumerGroup) {
  return <M extends (partitions: number[]) => void>(
    _target: object,
    _key: string | symbol,
    descriptor: TypedPropertyDescriptor<M>,
  ): void => {
    const groups = (Reflect.getMetadata(ASSIGNED, descriptor.value!) as ConsumerGroup[]) ?? [];
    Reflect.defineMetadata(ASSIGNED, [...groups, group], descriptor.value!);
  };
}

/** The methods of a class's prototype chain, by name (own methods first). */
function methodsOf(cls: Type<unknown>): Array<[string, (...args: unknown[]) => unknown]> {
  const seen = new Map<string, (...args: unknown[]) => unknown>();
  for (
    let p = cls.prototype as object;
    p && p !== Object.prototype;
    p = Object.getPrototypeOf(p) as object
  ) {
    for (const name of Object.getOwnPropertyNames(p)) {
      const d = Object.getOwnPropertyDescriptor(p, name);
      if (name !== 'constructor' && typeof d?.value === 'function' && !seen.has(name)) {
        seen.set(name, d.value as (...args: unknown[]) => unknown);
      }
    }
  }
  return [...seen];
}

/** The `@OnBatch` / `@OnState` handlers of a class, with their method names. */
export function kafkaHandlersOf(cls: Type<unknown>): Array<{ method: string } & KafkaHandlerMeta> {
  return methodsOf(cls).flatMap(([method, fn]) => {
    const meta = Reflect.getMetadata(HANDLER, fn) as KafkaHandlerMeta | undefined;
    return meta ? [{ method, ...meta }] : [];
  });
}

/** The `@OnAssigned(group)` methods of a class. */
export function assignedHooksOf(cls: Type<unknown>, group: ConsumerGroup): string[] {
  return methodsOf(cls).flatMap(([method, fn]) =>
    ((Reflect.getMetadata(ASSIGNED, fn) as ConsumerGroup[] | undefined) ?? []).includes(group)
      ? [method]
      : [],
  );
}

/**
 * A Nest controller whose handlers are Kafka inputs. Errors reach the consumer runner as thrown
 * (see `RethrowToRunner`). A class declared with no handler is a mistake: it throws when loaded.
 */
export function KafkaConsumer(): ClassDecorator {
  return (target) => {
    const cls = target as unknown as Type<unknown>;
    const handlers = kafkaHandlersOf(cls);
    if (handlers.length === 0) {
      throw new Error(`${cls.name} is a @KafkaConsumer() with no @OnBatch or @OnState handler`);
    }
    for (const h of handlers) h.group.consumers.add(cls);
    applyDecorators(Controller(), UseFilters(RethrowToRunner))(target);
  };
}
