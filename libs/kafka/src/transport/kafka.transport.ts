import { Logger, type InjectionToken, type Type } from '@nestjs/common';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import type { TopicDefinition } from '@app/contracts';
import type { Kafka } from 'kafkajs';
import { isObservable, lastValueFrom } from 'rxjs';
import {
  ConsumerRunner,
  type ConsumedRecord,
  type ConsumerRunnerOptions,
  type HandlerResult,
  type Subscription,
} from '../consumer.runner';
import type { EventProducer } from '../event.producer';
import { PartitionCountMismatchError } from '../topic.admin';
import type { ConsumerGroup } from './consumer-group';
import type { GroupReadiness, KafkaConsumerGroups } from './consumer-groups.registry';
import { KafkaBatchContext } from './kafka-batch.context';
import { assignedHooksOf, kafkaHandlersOf, type KafkaHandlerMeta } from './kafka.decorators';

/** How a service runs one consumer group: from its typed settings, in its module. */
export interface KafkaGroupOptions extends Omit<
  ConsumerRunnerOptions,
  'subscriptions' | 'onAssigned'
> {
  group: ConsumerGroup;
  /** Members of the group in this process (default 1): one's sends overlap another's commits. */
  instances?: number;
  /** The producer for the group's output when not the service's own (`EventProducer`). */
  producer?: InjectionToken;
  /** Contract topics replaced by name (a benchmark's own copies of them). */
  topics?: Readonly<Record<string, TopicDefinition<unknown, unknown>>>;
  /** Runs before each start attempt (e.g. creating and checking topics); a throw is retried. */
  prepare?: (kafka: Kafka) => Promise<void>;
  /**
   * `boot` (default): readiness is 503 until the group runs. `running`: the group counts once it
   * runs (an input the service can serve without, e.g. the registry's invalidations).
   */
  readiness?: GroupReadiness;
}

export interface KafkaTransportDeps {
  kafka: Kafka;
  producer: EventProducer;
  groups: KafkaConsumerGroups;
  /** The instance of a `@KafkaConsumer` class (for its `@OnAssigned` hooks). */
  resolve: (cls: Type<unknown>) => unknown;
}

/**
 * `@nestjs/microservices`' custom transport for one consumer group: Nest registers the group's
 * `@OnBatch` / `@OnState` handlers here, and `ConsumerRunner` (the engine) runs them. Started by
 * `startAllMicroservices()` after `app.init()`, in the background (a broker down at boot delays
 * consuming, not the boot); tracked by readiness; stopped when the application closes.
 */
export class KafkaTransport extends Server implements CustomTransportStrategy {
  override readonly transportId: symbol;
  private readonly runners: ConsumerRunner[] = [];
  private readonly log: Logger;

  constructor(
    private readonly deps: KafkaTransportDeps,
    private readonly opts: KafkaGroupOptions,
  ) {
    super();
    this.transportId = opts.group.transportId;
    this.log = new Logger(`KafkaTransport:${opts.group.name}`);
  }

  /** A topic handled twice in one group is a boot error (Nest would chain both handlers). */
  override addHandler(
    pattern: unknown,
    callback: MessageHandler,
    isEventHandler?: boolean,
    extras?: Record<string, unknown>,
  ): void {
    const name = this.normalizePattern(pattern as string);
    if (this.messageHandlers.has(name)) {
      throw new Error(`${name} is handled twice in consumer group ${this.opts.group.name}`);
    }
    super.addHandler(pattern, callback, isEventHandler, extras);
  }

  listen(callback: (err?: unknown) => void): void {
    let subscriptions: Subscription[];
    let onAssigned: (partitions: number[]) => void;
    try {
      subscriptions = this.subscriptions();
      onAssigned = this.assignedHooks();
    } catch (e) {
      return callback(e);
    }
    const { group, instances = 1, readiness = 'boot', prepare } = this.opts;
    for (let i = 0; i < instances; i++) {
      const runner = new ConsumerRunner(this.deps.kafka, this.deps.producer, {
        ...this.opts,
        subscriptions,
        onAssigned,
      });
      this.runners.push(runner);
      this.deps.groups.add(group, readiness, runner);
      runner.startInBackground({
        prepare: prepare && (() => prepare(this.deps.kafka)),
        onStarted: () => {
          this.deps.groups.started(runner);
          this.log.log({ msg: 'consuming', groupId: this.opts.groupId, member: i + 1 });
        },
        isFatal: (e) => e instanceof PartitionCountMismatchError,
      });
    }
    callback();
  }

  /** Stops every member: the batch in flight finishes and commits, then the group is left. */
  async close(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.stop()));
    for (const r of this.runners) this.deps.groups.remove(r);
    this.runners.length = 0;
  }

  on(): never {
    throw new Error('KafkaTransport has no events to listen to');
  }

  unwrap<T>(): T {
    return this.runners as T;
  }

  /** The handlers Nest registered for this group, as the runner's subscriptions. */
  subscriptions(): Subscription[] {
    const { group, topics } = this.opts;
    this.checkEveryHandlerRegistered();
    if (this.messageHandlers.size === 0) {
      throw new Error(`consumer group ${group.name} has no @OnBatch or @OnState handler`);
    }
    return [...this.messageHandlers.values()].map((handler) => {
      const meta = (handler.extras as { kafka: KafkaHandlerMeta }).kafka;
      return {
        topic: topics?.[meta.topic.name] ?? meta.topic,
        role: meta.role,
        echoesApplied: meta.echoesApplied,
        handle: (records: ConsumedRecord<unknown>[], m: { topic: string; partition: number }) =>
          this.invoke(handler, records, m),
      };
    });
  }

  /** A `@KafkaConsumer` of this group that Nest did not register is not in its module's controllers. */
  private checkEveryHandlerRegistered(): void {
    for (const cls of this.opts.group.consumers) {
      for (const h of kafkaHandlersOf(cls)) {
        if (h.group === this.opts.group && !this.messageHandlers.has(h.topic.name)) {
          throw new Error(
            `${cls.name}.${h.method} (${h.topic.name}) is not registered: ` +
              `add ${cls.name} to its module's controllers`,
          );
        }
      }
    }
  }

  /** The group's `@OnAssigned` methods, called in turn with each new assignment. */
  assignedHooks(): (partitions: number[]) => void {
    const hooks = [...this.opts.group.consumers].flatMap((cls) =>
      assignedHooksOf(cls, this.opts.group).map((method) => {
        const instance = this.deps.resolve(cls) as Record<string, (p: number[]) => void>;
        return (partitions: number[]) => instance[method](partitions);
      }),
    );
    return (partitions) => hooks.forEach((hook) => hook(partitions));
  }

  private async invoke(
    handler: MessageHandler,
    records: ConsumedRecord<unknown>[],
    m: { topic: string; partition: number },
  ): Promise<HandlerResult | void> {
    const out = (await handler(records, new KafkaBatchContext([m.topic, m.partition]))) as unknown;
    return (isObservable(out) ? await lastValueFrom(out, { defaultValue: undefined }) : out) as
      HandlerResult | undefined;
  }
}
