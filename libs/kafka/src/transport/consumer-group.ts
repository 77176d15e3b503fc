import type { Type } from '@nestjs/common';

/**
 * A consumer group as code declares it: handlers name it in `@OnBatch` / `@OnState`, the service's
 * module gives its options (`KafkaGroupOptions`), and one Nest microservice per group runs it. The
 * Kafka group id comes from the options (settings), so two deployments can share a broker.
 */
export interface ConsumerGroup {
  /** Names the group in logs and readiness (e.g. `routing-decide`). */
  readonly name: string;
  /** The Nest transport id: a handler is registered only on its own group's transport. */
  readonly transportId: symbol;
  /** The `@KafkaConsumer` classes with a handler in this group (filled as classes are declared). */
  readonly consumers: Set<Type<unknown>>;
}

export function consumerGroup(name: string): ConsumerGroup {
  return Object.freeze({
    name,
    transportId: Symbol(`kafka:${name}`),
    consumers: new Set<Type<unknown>>(),
  });
}
