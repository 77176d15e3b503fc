import type { KafkaMessage } from 'kafkajs';
import { kafkaMetrics } from '../kafka.metrics';
import type { ConsumedRecord, HandlerResult } from './consumer.types';
import type { InvalidRecord } from './record-decoder';
import { StateBatches } from './state-batches';

const rec = (offset: string): ConsumedRecord<unknown> => ({
  topic: 'state.v1',
  partition: 1,
  offset,
  key: 'k',
  value: { offset },
  headers: {},
  timestamp: '0',
  context: { correlationId: 'c' },
});
const invalid = (offset: string): InvalidRecord => ({
  ok: false,
  message: { offset } as KafkaMessage,
  reason: { code: 'SCHEMA_VIOLATION', message: 'n: Required' },
});

let groups = 0;
async function consumed(group: string) {
  const m = await kafkaMetrics.recordsConsumed.get();
  const of = (result: string) =>
    m.values.find((v) => v.labels.group === group && v.labels.result === result)?.value ?? 0;
  return { ok: of('ok'), skipped: of('skipped'), dead_letter: of('dead_letter') };
}

function setup(failures: number, opts: { lostAfter?: number; result?: HandlerResult } = {}) {
  const group = `state-group-${++groups}`;
  const sleeps: number[] = [];
  const stalls = { failed: jest.fn(), progressed: jest.fn() };
  const logger = { warn: jest.fn() };
  const onCommit = jest.fn();
  let calls = 0;
  const handle = jest.fn(async () => {
    if (++calls <= failures) throw new Error('state store busy');
    return { onCommit, ...opts.result };
  });
  const heartbeat = jest.fn(async () => undefined);
  const turn = {
    topic: 'state.v1',
    partition: 1,
    first: '5',
    stillOurs: () => opts.lostAfter === undefined || calls < opts.lostAfter,
    heartbeat,
  };
  const batches = new StateBatches({
    groupId: group,
    retry: { initialMs: 200, maxMs: 500 },
    stalls,
    logger,
    sleep: async (ms) => void sleeps.push(ms),
  });
  return { group, sleeps, stalls, logger, handle, heartbeat, onCommit, turn, batches };
}

/** [name, failures before it applies, the backoff, handler calls] */
const APPLIED: Array<[string, number, number[], number]> = [
  ['a state batch is applied once, its onCommit runs, and the partition moves on', 0, [], 1],
  ['a failing state batch is retried with backoff until it applies', 4, [200, 400, 500, 500], 5],
];

/** [name, valid records, invalid records, handler calls, records counted] */
const SKIPPED: Array<[string, ConsumedRecord<unknown>[], InvalidRecord[], number, object]> = [
  [
    'invalid state records are skipped (logged and counted), never dead-lettered',
    [rec('6')],
    [invalid('5')],
    1,
    { ok: 1, skipped: 1, dead_letter: 0 },
  ],
  [
    'a batch with only invalid records moves on without calling the handler',
    [],
    [invalid('5'), invalid('6')],
    0,
    { ok: 0, skipped: 2, dead_letter: 0 },
  ],
];

describe('StateBatches: applying a changelog batch', () => {
  it.each(APPLIED)('%s', async (_name, failures, sleeps, calls) => {
    const s = setup(failures);
    expect(await s.batches.apply(s.handle, [rec('5'), rec('6')], [], s.turn)).toBe(true);
    expect(s.handle).toHaveBeenCalledTimes(calls);
    expect(s.handle).toHaveBeenCalledWith([rec('5'), rec('6')], {
      topic: 'state.v1',
      partition: 1,
    });
    expect(s.sleeps).toEqual(sleeps);
    expect(s.heartbeat).toHaveBeenCalledTimes(sleeps.length);
    expect(s.stalls.failed).toHaveBeenCalledTimes(failures);
    if (failures) {
      expect(s.stalls.failed).toHaveBeenCalledWith('state.v1', 1, '5', expect.any(Error));
    }
    expect(s.onCommit).toHaveBeenCalledTimes(1);
    expect(s.stalls.progressed).toHaveBeenCalledWith('state.v1', 1);
    expect(await consumed(s.group)).toEqual({ ok: 2, skipped: 0, dead_letter: 0 });
  });
});

describe('StateBatches: what is skipped, what is given up', () => {
  it.each(SKIPPED)('%s', async (_name, valid, bad, calls, counts) => {
    const s = setup(0);
    expect(await s.batches.apply(s.handle, valid, bad, s.turn)).toBe(true);
    expect(s.handle).toHaveBeenCalledTimes(calls);
    expect(s.logger.warn).toHaveBeenCalledWith({
      msg: 'skipping invalid state record',
      topic: 'state.v1',
      partition: 1,
      offset: '5',
      code: 'SCHEMA_VIOLATION',
      reason: 'n: Required',
    });
    expect(await consumed(s.group)).toEqual(counts);
  });

  it('records the state handler rejects are skipped like invalid ones, not dead-lettered', async () => {
    const s = setup(0, {
      result: { rejected: [{ record: rec('6'), code: 'UNKNOWN_APP', message: 'no app' }] },
    });
    expect(await s.batches.apply(s.handle, [rec('5'), rec('6')], [], s.turn)).toBe(true);
    expect(s.logger.warn).toHaveBeenCalledWith(
      expect.objectContaining({
        msg: 'skipping state record the handler rejects',
        offset: '6',
        code: 'UNKNOWN_APP',
      }),
    );
    expect(await consumed(s.group)).toEqual({ ok: 1, skipped: 1, dead_letter: 0 });
  });

  it('a state batch failing once the partition is lost is given up, not moved past', async () => {
    const s = setup(9, { lostAfter: 2 });
    expect(await s.batches.apply(s.handle, [rec('5')], [], s.turn)).toBe(false);
    expect(s.handle).toHaveBeenCalledTimes(2);
    expect(s.stalls.progressed).not.toHaveBeenCalled();
    expect(await consumed(s.group)).toEqual({ ok: 0, skipped: 0, dead_letter: 0 });
  });

  it('a heartbeat that throws (the group rebalanced) ends the retries with its error', async () => {
    const s = setup(9);
    s.heartbeat.mockRejectedValue(new Error('The group is rebalancing'));
    await expect(s.batches.apply(s.handle, [rec('5')], [], s.turn)).rejects.toThrow('rebalancing');
    expect(s.handle).toHaveBeenCalledTimes(1);
  });
});
