import type { EncodedRecord } from '../event.producer';
import { OffsetCommitter } from './offset-committer';

const record = (topic: string, value: string): EncodedRecord => ({
  topic,
  message: { key: 'k', value },
  bytes: 100,
});

/** Records each step in `calls`; `failOnce(step)` makes the next such step throw. */
function steps() {
  const calls: string[] = [];
  let failing: { step: string; error: Error } | undefined;
  const step = (name: string) =>
    jest.fn(async () => {
      calls.push(name);
      if (failing?.step !== name) return;
      const { error } = failing;
      failing = undefined;
      throw error;
    });
  const failOnce = (s: string) => (failing = { step: s, error: new Error(`${s} failed`) });
  return { calls, step, failOnce };
}

/** kafkajs's transactional producers and admin, faked; the admin reads `committed` for in[3]. */
function fakeKafka(step: ReturnType<typeof steps>['step'], committed: string | Error) {
  const txs: Array<Record<string, jest.Mock>> = [];
  const producers: Array<{ id: string; disconnect: jest.Mock }> = [];
  const transaction = jest.fn(async () => {
    const tx = {
      sendBatch: step('sendBatch'),
      sendOffsets: step('sendOffsets'),
      commit: step('commit'),
      abort: step('abort'),
    };
    txs.push(tx);
    return tx;
  });
  const producer = jest.fn(({ transactionalId: id }: { transactionalId: string }) => {
    const p = { id, connect: step(`connect ${id}`), disconnect: step(`disconnect ${id}`) };
    producers.push(p);
    return { ...p, transaction };
  });
  const fetchOffsets = jest.fn(async () => {
    await step('fetchOffsets')();
    if (committed instanceof Error) throw committed;
    return [{ topic: 'in', partitions: [{ partition: 3, offset: committed }] }];
  });
  const admin = jest.fn(() => ({
    connect: jest.fn(async () => undefined),
    disconnect: jest.fn(async () => undefined),
    fetchOffsets,
  }));
  return { kafka: { producer, admin }, txs, producers, fetchOffsets };
}

function setup(opts: { transactional?: boolean; committed?: string | Error } = {}) {
  const { calls, step, failOnce } = steps();
  const fake = fakeKafka(step, opts.committed ?? '-1');
  const producer = { sendEncoded: step('sendEncoded') };
  const consumer = { commitOffsets: step('commitOffsets') };
  const logger = { warn: jest.fn() };
  const committer = new OffsetCommitter(fake.kafka as never, producer, consumer, {
    groupId: 'g',
    transactional: opts.transactional ? { idPrefix: 'px' } : undefined,
    logger,
  });
  const onCommit = jest.fn(() => void calls.push('onCommit'));
  const commit = (offset = '10', records = [record('out', '1')]) =>
    committer.commit('in', 3, offset, records, onCommit);
  return { ...fake, calls, failOnce, producer, consumer, logger, committer, onCommit, commit };
}

const PLAIN: Array<[string, string | undefined, string[]]> = [
  [
    'the records go out before the offset is committed, then onCommit runs',
    undefined,
    ['sendEncoded', 'commitOffsets', 'onCommit'],
  ],
  ['a failed send commits nothing and onCommit does not run', 'sendEncoded', ['sendEncoded']],
  [
    'a failed offset commit does not run onCommit (the batch is handled again)',
    'commitOffsets',
    ['sendEncoded', 'commitOffsets'],
  ],
];

describe('OffsetCommitter, plain', () => {
  it.each(PLAIN)('%s', async (_name, failing, expected) => {
    const s = setup();
    if (failing) s.failOnce(failing);
    if (failing) await expect(s.commit()).rejects.toThrow(`${failing} failed`);
    else await s.commit();
    expect(s.calls).toEqual(expected);
    if (failing) return;
    expect(s.producer.sendEncoded).toHaveBeenCalledWith([record('out', '1')]);
    expect(s.consumer.commitOffsets).toHaveBeenCalledWith([
      { topic: 'in', partition: 3, offset: '10' },
    ]);
  });

  it('never asks the group for its offsets, nor makes a transactional producer', async () => {
    const s = setup();
    s.failOnce('commitOffsets');
    await expect(s.commit()).rejects.toThrow();
    await s.committer.fence(['in'], [0, 1]);
    expect(s.kafka.admin).not.toHaveBeenCalled();
    expect(s.kafka.producer).not.toHaveBeenCalled();
  });
});

const TX = ['connect px-in-3', 'sendBatch', 'sendOffsets', 'commit'];
const DROPPED = ['abort', 'disconnect px-in-3', 'fetchOffsets'];
/** [name, the step that fails, the group's committed offset, the steps, committed?] */
const TRANSACTIONAL: Array<[string, string | undefined, string | Error, string[], boolean]> = [
  [
    'output and offsets commit in one transaction, then onCommit runs',
    undefined,
    '-1',
    [...TX, 'onCommit'],
    true,
  ],
  [
    'an ambiguous EndTxn that did commit is not redone',
    'commit',
    '10',
    [...TX, ...DROPPED, 'onCommit'],
    true,
  ],
  [
    'a committed offset past the batch also counts as committed',
    'commit',
    '12',
    [...TX, ...DROPPED, 'onCommit'],
    true,
  ],
  [
    'a failed transactional commit aborts and drops the producer',
    'commit',
    '9',
    [...TX, ...DROPPED],
    false,
  ],
  [
    'a failed send aborts, drops the producer and commits nothing',
    'sendBatch',
    '-1',
    ['connect px-in-3', 'sendBatch', ...DROPPED],
    false,
  ],
  [
    'a group whose offsets cannot be read counts as not committed',
    'commit',
    new Error('coordinator loading'),
    [...TX, ...DROPPED],
    false,
  ],
];

describe('OffsetCommitter, transactional commits', () => {
  it.each(TRANSACTIONAL)('%s', async (_name, failing, committed, expected, ok) => {
    const s = setup({ transactional: true, committed });
    if (failing) s.failOnce(failing);
    if (ok) await s.commit();
    else await expect(s.commit()).rejects.toThrow(`${failing} failed`);
    expect(s.calls).toEqual(expected);
    // One warning for a failure that did commit.
    expect(s.logger.warn).toHaveBeenCalledTimes(failing && ok ? 1 : 0);
  });

  it('sends the output with acks=all and the offset to the group, inside the transaction', async () => {
    const s = setup({ transactional: true });
    await s.commit('10', [record('out', '1'), record('dl', '2')]);
    expect(s.txs[0].sendBatch).toHaveBeenCalledWith({
      topicMessages: [
        { topic: 'out', messages: [{ key: 'k', value: '1' }] },
        { topic: 'dl', messages: [{ key: 'k', value: '2' }] },
      ],
      acks: -1,
    });
    expect(s.txs[0].sendOffsets).toHaveBeenCalledWith({
      consumerGroupId: 'g',
      topics: [{ topic: 'in', partitions: [{ partition: 3, offset: '10' }] }],
    });
  });

  it('a batch with no output commits only its offset', async () => {
    const s = setup({ transactional: true });
    await s.commit('10', []);
    expect(s.calls).toEqual(['connect px-in-3', 'sendOffsets', 'commit', 'onCommit']);
  });
});

describe('OffsetCommitter, the transactional producer pool', () => {
  it('the transactional id is derived from the input partition; one producer per partition, reused', async () => {
    const s = setup({ transactional: true });
    for (const [t, p] of [
      ['in', 3],
      ['in', 3],
      ['in', 4],
      ['other', 3],
    ] as const) {
      await s.committer.commit(t, p, '1', [], () => undefined);
    }
    expect(s.producers.map((p) => p.id)).toEqual(['px-in-3', 'px-in-4', 'px-other-3']);
    expect(s.kafka.producer).toHaveBeenCalledWith(
      expect.objectContaining({
        idempotent: true,
        transactionalId: 'px-in-3',
        maxInFlightRequests: 1,
      }),
    );
  });

  it.each([
    ['after a failed commit the next batch gets a new producer', 'commit'],
    ['a producer that fails to connect is not kept', 'connect px-in-3'],
  ])('%s', async (_name, failing) => {
    const s = setup({ transactional: true });
    s.failOnce(failing);
    await expect(s.commit()).rejects.toThrow();
    await s.commit();
    expect(s.producers).toHaveLength(2);
    expect(s.onCommit).toHaveBeenCalledTimes(1);
  });

  it('fencing on assignment: each input partition aborts its transactional id, fencing the previous owner', async () => {
    const s = setup({ transactional: true });
    await s.committer.fence(['in', 'retry'], [0, 5]);
    const ids = s.producers.map((p) => p.id).sort();
    expect(ids).toEqual(['px-in-0', 'px-in-5', 'px-retry-0', 'px-retry-5']);
    expect(s.txs.map((tx) => tx.abort.mock.calls.length)).toEqual([1, 1, 1, 1]);
    // The fenced producers are the ones the partitions' batches then use.
    await s.committer.commit('in', 0, '1', [], () => undefined);
    expect(s.producers).toHaveLength(4);
  });

  it('close disconnects every producer of the pool, and forgets them', async () => {
    const s = setup({ transactional: true });
    await s.committer.fence(['in'], [0, 1]);
    await s.committer.close();
    expect(s.producers.map((p) => p.disconnect.mock.calls.length)).toEqual([1, 1]);
    await s.committer.commit('in', 0, '1', [], () => undefined);
    expect(s.producers).toHaveLength(3);
  });
});
