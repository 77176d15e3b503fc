import 'reflect-metadata';
import { Module, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { defineTopic } from '@app/contracts';
import type { Kafka } from 'kafkajs';
import { z } from 'zod';
import type { ConsumedRecord, HandlerResult } from '../consumer.runner';
import type { EventProducer } from '../event.producer';
import { PoisonRecordException, RetryableException } from '../kafka.exception';
import { consumerGroup, type ConsumerGroup } from './consumer-group';
import { KafkaConsumerGroups } from './consumer-groups.registry';
import { KafkaBatchContext } from './kafka-batch.context';
import { KafkaConsumer, OnAssigned, OnBatch, OnState } from './kafka.decorators';
import { KafkaTransport } from './kafka.transport';

const Value = z.object({ n: z.number() });
type Value = z.infer<typeof Value>;
const input = defineTopic({
  name: 'spec.input.v1',
  eventType: 'spec.input',
  cleanup: 'delete',
  keySpace: 'source',
  schema: Value,
  key: (v) => String(v.n),
});
const state = defineTopic({ ...input, name: 'spec.state.v1', cleanup: 'compact' });

const GROUP = consumerGroup('spec');
const TWICE = consumerGroup('spec-twice');
const ORPHAN = consumerGroup('spec-orphan');

/** What each value of `n` makes the handler do. */
const THROWS: Record<number, () => Error> = {
  [-1]: () => new RetryableException('the database is away'),
  [-2]: () => new PoisonRecordException('BAD_N', 'n may not be -2'),
  [-3]: () => new TypeError('a bug'),
};

@KafkaConsumer()
class SpecConsumer {
  readonly seen: Array<{ n: number; topic: string; partition: number }> = [];
  readonly assignments: number[][] = [];
  readonly states: number[] = [];

  @OnBatch(GROUP, input)
  inputs(records: ConsumedRecord<Value>[], ctx: KafkaBatchContext): HandlerResult {
    for (const r of records) {
      const fail = THROWS[r.value.n];
      if (fail) throw fail();
      this.seen.push({ n: r.value.n, topic: ctx.topic, partition: ctx.partition });
    }
    return { records: [] };
  }

  @OnState(GROUP, state)
  snapshots(records: ConsumedRecord<Value, 'compact'>[]): void {
    for (const r of records) this.states.push(r.value!.n);
  }

  @OnAssigned(GROUP)
  assigned(partitions: number[]): void {
    this.assignments.push(partitions);
  }
}

@KafkaConsumer()
class TwiceConsumer {
  @OnBatch(TWICE, input)
  first(): void {}

  @OnBatch(TWICE, input)
  second(): void {}
}

/** Declared, but not in any module's controllers. */
@KafkaConsumer()
class OrphanConsumer {
  @OnBatch(ORPHAN, input)
  inputs(): void {}
}

const record = (n: number, offset = '0'): ConsumedRecord<Value> => ({
  topic: input.name,
  partition: 3,
  offset,
  key: String(n),
  value: { n },
  headers: {},
  timestamp: '0',
  context: { correlationId: 'c' },
});

async function appWith(controllers: Type<unknown>[]): Promise<INestApplication> {
  @Module({ controllers })
  class SpecModule {}
  // Nest would exit the process on a boot error; here it throws instead.
  return NestFactory.create(SpecModule, { logger: false, abortOnError: false });
}

function transportFor(app: INestApplication, group: ConsumerGroup): KafkaTransport {
  return new KafkaTransport(
    {
      kafka: {} as Kafka,
      producer: {} as EventProducer,
      groups: new KafkaConsumerGroups(),
      resolve: (cls) => app.get(cls),
    },
    { group, groupId: `spec-${group.name}` },
  );
}

describe('KafkaTransport (Nest registers the handlers; the runner gets them back unchanged)', () => {
  let app: INestApplication;
  let transport: KafkaTransport;

  beforeAll(async () => {
    app = await appWith([SpecConsumer]);
    transport = transportFor(app, GROUP);
    app.connectMicroservice({ strategy: transport });
  });

  afterAll(() => app.close());

  const subscription = (topic: string) =>
    transport.subscriptions().find((s) => s.topic.name === topic)!;

  it('subscribes the group to each handled topic, state topics as state', () => {
    expect(transport.subscriptions().map((s) => [s.topic.name, s.role])).toEqual(
      expect.arrayContaining([
        [input.name, 'input'],
        [state.name, 'state'],
      ]),
    );
  });

  it('hands the handler the batch and a context naming its topic and partition', async () => {
    const result = await subscription(input.name).handle([record(7)], {
      topic: input.name,
      partition: 3,
    });
    expect(result).toEqual({ records: [] });
    expect(app.get(SpecConsumer).seen).toContainEqual({ n: 7, topic: input.name, partition: 3 });
  });

  it.each([
    [
      'a RetryableException (wait and retry, never dead-letter)',
      -1,
      RetryableException,
      'RETRYABLE',
    ],
    [
      'a PoisonRecordException (dead-letter at once, with its code)',
      -2,
      PoisonRecordException,
      'BAD_N',
    ],
    ['any other error, not Nest\'s "Internal server error"', -3, TypeError, undefined],
  ])('rethrows %s to the runner as thrown', async (_name, n, type, code) => {
    const failing = subscription(input.name).handle([record(n)], {
      topic: input.name,
      partition: 3,
    });
    await expect(failing).rejects.toBeInstanceOf(type);
    await expect(failing).rejects.toMatchObject(code ? { code } : { message: 'a bug' });
  });

  it('calls the @OnAssigned methods with each assignment', () => {
    transport.assignedHooks()([0, 5]);
    expect(app.get(SpecConsumer).assignments).toEqual([[0, 5]]);
  });

  it('reads state records through the @OnState handler', async () => {
    await subscription(state.name).handle([{ ...record(9), topic: state.name }], {
      topic: state.name,
      partition: 3,
    });
    expect(app.get(SpecConsumer).states).toEqual([9]);
  });
});

describe('KafkaTransport refuses a wrong declaration at boot', () => {
  it('a topic handled twice in one group', async () => {
    const app = await appWith([TwiceConsumer]);
    expect(() => app.connectMicroservice({ strategy: transportFor(app, TWICE) })).toThrow(
      /spec\.input\.v1 is handled twice in consumer group spec-twice/,
    );
    await app.close();
  });

  it('a @KafkaConsumer class without a handler', () => {
    expect(() => KafkaConsumer()(class Empty {})).toThrow(
      /Empty is a @KafkaConsumer\(\) with no @OnBatch or @OnState handler/,
    );
  });

  it("a consumer class of the group missing from its module's controllers", async () => {
    const app = await appWith([]);
    const transport = transportFor(app, ORPHAN);
    app.connectMicroservice({ strategy: transport });
    const err = await new Promise<unknown>((resolve) => transport.listen(resolve));
    expect(String(err)).toMatch(
      /OrphanConsumer.inputs \(spec\.input\.v1\) is not registered: add OrphanConsumer to its module's controllers/,
    );
    expect(OrphanConsumer).toBeDefined();
    await app.close();
  });
});
