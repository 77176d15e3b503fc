import type { Kafka } from 'kafkajs';
import { ConsumerRunner, type HandlerResult, type Subscription } from '../consumer.runner';
import type { EventProducer } from '../event.producer';
import { KafkaBatchContext } from './kafka-batch.context';
import { assignedHooksOf, kafkaHandlersOf } from './kafka.decorators';
import type { KafkaGroupOptions } from './kafka.transport';

/** A consumer's methods by name (its handlers return a `HandlerResult`, or nothing). */
type Handlers = Record<
  string,
  (...args: unknown[]) => Promise<HandlerResult | void> | HandlerResult | void
>;

/**
 * A `ConsumerRunner` for one group of already built `@KafkaConsumer` instances, without Nest:
 * for benchmarks that measure the engine and the handlers alone. Services run groups through
 * `KafkaTransport` (Nest's pipeline, readiness, lifecycle); this only wires the same handlers.
 */
export function runnerFor(
  kafka: Kafka,
  producer: EventProducer,
  opts: KafkaGroupOptions,
  consumers: object[],
): ConsumerRunner {
  const subscriptions: Subscription[] = [];
  const hooks: Array<(partitions: number[]) => void> = [];
  for (const instance of consumers) {
    const cls = instance.constructor as new (...args: never[]) => unknown;
    const own = instance as Handlers;
    for (const h of kafkaHandlersOf(cls).filter((x) => x.group === opts.group)) {
      subscriptions.push({
        topic: opts.topics?.[h.topic.name] ?? h.topic,
        role: h.role,
        echoesApplied: h.echoesApplied,
        handle: async (records, m) =>
          own[h.method](records, new KafkaBatchContext([m.topic, m.partition])),
      });
    }
    for (const method of assignedHooksOf(cls, opts.group)) {
      hooks.push((partitions) => void own[method](partitions));
    }
  }
  return new ConsumerRunner(kafka, producer, {
    ...opts,
    subscriptions,
    onAssigned: (partitions) => hooks.forEach((hook) => hook(partitions)),
  });
}
