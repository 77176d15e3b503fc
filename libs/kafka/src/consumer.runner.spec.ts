import { Logger } from '@nestjs/common';
import { defineTopic, TOPICS, type DeadLetter } from '@app/contracts';
import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import { z } from 'zod';
import { ConsumerRunner, type ConsumerRunnerOptions, type HandlerResult } from './consumer.runner';
import { outbound, type EncodedRecord } from './event.producer';
import { kafkaMetrics } from './kafka.metrics';

beforeAll(() => Logger.overrideLogger(false));

const Value = z.object({ n: z.number() });
const def = (name: string, cleanup: 'delete' | 'compact' = 'delete') =>
  defineTopic({
    name,
    eventType: name,
    cleanup,
    keySpace: 'user',
    schema: Value,
    key: (v) => `${v.n}`,
  });
const IN = def('test.runner.in.v1');
const OUT = def('test.runner.out.v1');
const STATE = def('test.runner.state.v1', 'compact');

const msg = (offset: string, value: unknown = { n: Number(offset) }): KafkaMessage =>
  ({
    offset,
    key: Buffer.from(`k${offset}`),
    value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    headers: {},
    timestamp: '0',
    attributes: 0,
    size: 0,
  }) as unknown as KafkaMessage;

/** A kafkajs consumer faked: `eachBatch` is what the runner gave `run`. */
function fakeConsumer() {
  const c = {
    events: {
      GROUP_JOIN: 'join',
      CRASH: 'crash',
      START_BATCH_PROCESS: 'start',
      END_BATCH_PROCESS: 'end',
    },
    on: jest.fn(),
    connect: jest.fn(async () => undefined),
    subscribe: jest.fn(async () => undefined),
    disconnect: jest.fn(async () => undefined),
    commitOffsets: jest.fn(async () => undefined),
    seek: jest.fn(),
    pause: jest.fn(),
    resume: jest.fn(),
    paused: jest.fn(() => []),
    eachBatch: (_p: EachBatchPayload): Promise<void> => Promise.reject(new Error('not running')),
    run: jest.fn(async ({ eachBatch }: { eachBatch: (p: EachBatchPayload) => Promise<void> }) => {
      c.eachBatch = eachBatch;
    }),
  };
  return c;
}

let groups = 0;
async function setup(
  handle: (offsets: string[], call: number) => HandlerResult | void,
  opts: Partial<ConsumerRunnerOptions> = {},
) {
  const consumer = fakeConsumer();
  const kafka = { consumer: jest.fn(() => consumer) };
  const sent: EncodedRecord[][] = [];
  const producer = {
    connect: jest.fn(async () => undefined),
    sendEncoded: jest.fn(async (rs: EncodedRecord[]) => void sent.push(rs)),
  };
  const calls: string[][] = [];
  const handler = jest.fn(async (rs: Array<{ offset: string }>) => {
    calls.push(rs.map((r) => r.offset));
    return handle(calls.at(-1)!, calls.length);
  });
  const groupId = `runner-spec-${++groups}`;
  const runner = new ConsumerRunner(kafka as never, producer as never, {
    groupId,
    subscriptions: [
      { topic: IN, handle: handler },
      { topic: STATE, handle: handler, role: 'state' },
    ],
    retryDelayMs: 1,
    ...opts,
  });
  await runner.start();
  return { runner, consumer, producer, sent, calls, groupId };
}

/** The batch kafkajs hands over; `ours` answers isRunning, `stale` isStale. */
function batchOf(
  topic: string,
  messages: KafkaMessage[],
  p: { ours?: () => boolean; stale?: () => boolean } = {},
) {
  const resolveOffset = jest.fn();
  const heartbeat = jest.fn(async () => undefined);
  const batch = {
    topic,
    partition: 4,
    messages,
    highWatermark: '100',
    firstOffset: () => messages[0]?.offset ?? null,
    lastOffset: () => messages.at(-1)!.offset,
  };
  const payload = {
    batch,
    resolveOffset,
    heartbeat,
    isRunning: p.ours ?? (() => true),
    isStale: p.stale ?? (() => false),
    pause: jest.fn(),
  } as unknown as EachBatchPayload;
  return { payload, resolveOffset, heartbeat };
}

const sentTo = (sent: EncodedRecord[][], topic: string) =>
  sent
    .flat()
    .filter((r) => r.topic === topic)
    .map((r) => JSON.parse(String(r.message.value)) as unknown);
const letters = (sent: EncodedRecord[][]) =>
  (sentTo(sent, TOPICS.deadLetter.name) as DeadLetter[]).map((l) => [
    l.source.offset,
    l.error.code,
  ]);
async function consumed(group: string) {
  const m = await kafkaMetrics.recordsConsumed.get();
  const of = (result: string) =>
    m.values.find((v) => v.labels.group === group && v.labels.result === result)?.value ?? 0;
  return { ok: of('ok'), dead_letter: of('dead_letter') };
}

const echo = (os: string[]): HandlerResult => ({
  records: os.map((o) => outbound(OUT, { n: Number(o) })),
});

/** [name, the batch, the handler, outputs, dead letters, committed offset, resolved, parked at, counted] */
const INPUT: Array<
  [
    string,
    KafkaMessage[],
    (os: string[]) => HandlerResult | void,
    number[],
    string[][],
    string,
    string | null,
    string | null,
    object,
  ]
> = [
  [
    'a handled batch: output sent, the offset after the batch committed, kafkajs moves past it',
    [msg('10'), msg('11')],
    echo,
    [10, 11],
    [],
    '12',
    '11',
    null,
    { ok: 2, dead_letter: 0 },
  ],
  [
    'records that fail their schema are dead-lettered with the output; the offset moves past them',
    [msg('10'), msg('11', { n: 'x' }), msg('12', '{')],
    echo,
    [10],
    [
      ['11', 'SCHEMA_VIOLATION'],
      ['12', 'INVALID_JSON'],
    ],
    '13',
    '12',
    null,
    { ok: 1, dead_letter: 2 },
  ],
  [
    'a batch of only invalid records commits their dead letters without calling the handler',
    [msg('10', '')],
    echo,
    [],
    [['10', 'EMPTY_VALUE']],
    '11',
    '10',
    null,
    { ok: 0, dead_letter: 1 },
  ],
  [
    'a deferred result commits the deferral offset and parks the partition',
    [msg('10'), msg('11'), msg('12')],
    (os) => ({ ...echo(os.slice(0, 1)), deferFrom: { offset: '11', until: Date.now() + 60_000 } }),
    [10],
    [],
    '11',
    null,
    '11',
    { ok: 3, dead_letter: 0 },
  ],
  [
    'records the handler rejects are dead-lettered and counted as dead letters, not ok',
    [msg('10'), msg('11')],
    (os) => ({
      ...echo(os.slice(1)),
      rejected: [
        {
          record: {
            topic: IN.name,
            partition: 4,
            offset: '10',
            key: 'k10',
            value: { n: 10 },
            headers: {},
            timestamp: '0',
            context: { correlationId: 'c' },
          },
          code: 'UNKNOWN_APP',
          message: 'no such app',
        },
      ],
    }),
    [11],
    [['10', 'UNKNOWN_APP']],
    '12',
    '11',
    null,
    { ok: 1, dead_letter: 1 },
  ],
];

describe('ConsumerRunner: an input batch', () => {
  afterEach(() => jest.clearAllTimers());

  it.each(INPUT)(
    '%s',
    async (_name, messages, handle, outputs, dead, committed, resolved, parkedAt, counted) => {
      const s = await setup(handle);
      const b = batchOf(IN.name, messages);
      await s.consumer.eachBatch(b.payload);
      expect(sentTo(s.sent, OUT.name)).toEqual(outputs.map((n) => ({ n })));
      expect(letters(s.sent)).toEqual(dead);
      expect(s.consumer.commitOffsets).toHaveBeenCalledWith([
        { topic: IN.name, partition: 4, offset: committed },
      ]);
      if (resolved) expect(b.resolveOffset).toHaveBeenCalledWith(resolved);
      else expect(b.resolveOffset).not.toHaveBeenCalled();
      if (parkedAt) {
        expect(s.consumer.pause).toHaveBeenCalledWith([{ topic: IN.name, partitions: [4] }]);
        expect(s.consumer.seek).toHaveBeenCalledWith({
          topic: IN.name,
          partition: 4,
          offset: parkedAt,
        });
      } else expect(s.consumer.pause).not.toHaveBeenCalled();
      expect(await consumed(s.groupId)).toEqual(counted);
      await s.runner.stop();
    },
  );
});

describe('ConsumerRunner: failures', () => {
  it('a partition lost while the handler fails: nothing committed, nothing resolved, nothing thrown', async () => {
    let ours = true;
    const s = await setup(() => {
      ours = false;
      throw new Error('boom');
    });
    const b = batchOf(IN.name, [msg('10')], { ours: () => ours });
    await s.consumer.eachBatch(b.payload);
    expect(s.consumer.commitOffsets).not.toHaveBeenCalled();
    expect(b.resolveOffset).not.toHaveBeenCalled();
  });

  it('a commit failing once the partition is stale: the batch is read again from its first offset, and kafkajs restarts', async () => {
    const s = await setup(echo);
    s.consumer.commitOffsets.mockRejectedValueOnce(new Error('rebalance in progress'));
    let stale = false;
    s.producer.sendEncoded.mockImplementationOnce(async () => void (stale = true));
    const b = batchOf(IN.name, [msg('10'), msg('11')], { stale: () => stale });
    await expect(s.consumer.eachBatch(b.payload)).rejects.toMatchObject({
      name: 'BatchFailedError',
      retriable: true,
    });
    expect(s.consumer.seek).toHaveBeenCalledWith({ topic: IN.name, partition: 4, offset: '10' });
    expect(b.resolveOffset).not.toHaveBeenCalled();
    expect(s.calls).toHaveLength(1);
  });

  it('a commit that fails once is retried by handling the batch again, after a heartbeat', async () => {
    const s = await setup(echo);
    s.consumer.commitOffsets.mockRejectedValueOnce(new Error('coordinator moved'));
    const b = batchOf(IN.name, [msg('10')]);
    await s.consumer.eachBatch(b.payload);
    expect(s.calls).toEqual([['10'], ['10']]);
    expect(b.heartbeat).toHaveBeenCalledTimes(1);
    expect(s.consumer.commitOffsets).toHaveBeenCalledTimes(2);
    expect(b.resolveOffset).toHaveBeenCalledWith('10');
  });
});

describe('ConsumerRunner: a state batch', () => {
  it('is applied and moved past, never committed nor dead-lettered', async () => {
    const onCommit = jest.fn();
    const s = await setup(() => ({ onCommit }));
    const b = batchOf(STATE.name, [msg('0'), msg('1', '{'), msg('2')]);
    await s.consumer.eachBatch(b.payload);
    expect(s.calls).toEqual([['0', '2']]);
    expect(onCommit).toHaveBeenCalledTimes(1);
    expect(b.resolveOffset).toHaveBeenCalledWith('2');
    expect(s.consumer.commitOffsets).not.toHaveBeenCalled();
    expect(s.producer.sendEncoded).not.toHaveBeenCalled();
  });
});
