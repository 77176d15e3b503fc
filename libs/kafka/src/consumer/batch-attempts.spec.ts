import { Logger } from '@nestjs/common';
import { defineTopic, TOPICS, type DeadLetter } from '@app/contracts';
import { z } from 'zod';
import { outbound, type EncodedRecord } from '../event.producer';
import {
  PoisonRecordException,
  RetryableException,
  SchemaViolationException,
} from '../kafka.exception';
import { recordLimits } from '../record-limits';
import { BatchAttempts, type HandledBatch } from './batch-attempts';
import type { ConsumedRecord, HandlerResult } from './consumer.types';

beforeAll(() => Logger.overrideLogger(false));

const Value = z.object({ n: z.number(), pad: z.string().optional() });
const topic = (name: string) =>
  defineTopic({
    name,
    eventType: name,
    cleanup: 'delete',
    keySpace: 'user',
    schema: Value,
    key: (v) => String(v.n),
  });
const IN = topic('test.attempts.in.v1');
const OUT = topic('test.attempts.out.v1');
recordLimits.set(OUT.name, 4096); // an output over it is OUTPUT_TOO_LARGE

const rec = (offset: string): ConsumedRecord<unknown> => ({
  topic: IN.name,
  partition: 0,
  offset,
  key: offset,
  value: { n: Number(offset) },
  headers: {},
  timestamp: '0',
  context: { correlationId: `c-${offset}` },
});

type Offsets = string[];
type Script = (offsets: Offsets, call: number) => HandlerResult | void;

/** Outputs one record per input; `big` makes the output of those offsets too large for Kafka. */
const output = (offsets: Offsets, big: Offsets = []): HandlerResult => ({
  records: offsets.map((o) =>
    outbound(OUT, { n: Number(o), pad: big.includes(o) ? 'x'.repeat(8000) : undefined }),
  ),
});
const ok: Script = (os) => output(os);
const failWhen =
  (offset: string, error: () => Error): Script =>
  (os) => {
    if (os.includes(offset)) throw error();
    return output(os);
  };
const failTimes =
  (n: number, error: () => Error, then: Script = ok): Script =>
  (os, call) => {
    if (call <= n) throw error();
    return then(os, call);
  };
/** The batch fails with a handler error; alone, record 2 fails as retryable until call 7. */
const retryableAlone: Script = (os, call) => {
  if (os.length > 1) throw handlerError();
  if (os[0] === '2' && call <= 6) throw retryable();
  return output(os);
};
/** Any call that includes one of these offsets is refused as poison. */
const poisonOn =
  (offsets: Offsets): Script =>
  (os) => {
    if (os.some((o) => offsets.includes(o))) throw poison();
    return output(os);
  };
const handlerError = () => new Error('boom');
const retryable = () => new RetryableException('database down');
const poison = () => new PoisonRecordException('BAD_RECORD', 'refused');

const lettersOf = (b: HandledBatch) =>
  b.records
    .filter((r) => r.topic === TOPICS.deadLetter.name)
    .map((r) => JSON.parse(String(r.message.value)) as DeadLetter)
    .map((l) => [l.source.offset, l.error.code]);
const outputsOf = (b: HandledBatch) =>
  b.records.filter((r) => r.topic === OUT.name).map((r) => JSON.parse(String(r.message.value)).n);

function setup(
  script: Script,
  ours: (s: { calls: number; sleeps: number }) => boolean = () => true,
) {
  const calls: Offsets[] = [];
  const sleeps: number[] = [];
  const stalls = { failed: jest.fn() };
  const logger = { warn: jest.fn() };
  const heartbeat = jest.fn(async () => undefined);
  const attempts = new BatchAttempts({
    batchAttempts: 3,
    retry: { initialMs: 200, maxMs: 1000 },
    stalls,
    logger,
    sleep: async (ms) => void sleeps.push(ms),
  });
  const handle = jest.fn(async (rs: ConsumedRecord<unknown>[]) => {
    calls.push(rs.map((r) => r.offset));
    return script(
      rs.map((r) => r.offset),
      calls.length,
    );
  });
  const turn = {
    topic: IN.name,
    partition: 0,
    first: '1',
    stillOurs: () => ours({ calls: calls.length, sleeps: sleeps.length }),
    heartbeat,
  };
  const run = (offsets: Offsets, letters: EncodedRecord[] = []) =>
    attempts.run(handle, offsets.map(rec), letters, turn);
  return { calls, sleeps, stalls, logger, heartbeat, run };
}

const B = ['1', '2', '3'];

interface SettledRow {
  name: string;
  offsets?: Offsets;
  script: Script;
  /** The offsets of each handler call. */
  calls: Offsets[];
  /** [offset, code] of each dead letter. */
  letters: string[][];
  outputs: number[];
  sleeps: number[];
}
interface LostRow {
  name: string;
  script: Script;
  ours: (x: { calls: number; sleeps: number }) => boolean;
  calls: number;
  sleeps: number[];
}
interface DeferredRow {
  name: string;
  script: Script;
  calls: Offsets[];
  outputs: number[];
}

/** Batches that settle: handled, their poison records dead-lettered. */
const SETTLED: SettledRow[] = [
  {
    name: 'a batch the handler takes is handled in one call',
    script: ok,
    calls: [B],
    letters: [],
    outputs: [1, 2, 3],
    sleeps: [],
  },
  {
    name: 'isolates the poison record and dead-letters only it',
    script: failWhen('2', poison),
    calls: [B, ['1'], ['2'], ['3']],
    letters: [['2', 'BAD_RECORD']],
    outputs: [1, 3],
    sleeps: [],
  },
  {
    name: 'a SchemaViolationException in the handler is poison: isolated at once',
    script: failWhen('2', () => new SchemaViolationException(OUT.name, ['n: bad'])),
    calls: [B, ['1'], ['2'], ['3']],
    letters: [['2', 'SCHEMA_VIOLATION']],
    outputs: [1, 3],
    sleeps: [],
  },
  {
    name: 'an output too large for Kafka dead-letters the record that made it as OUTPUT_TOO_LARGE',
    script: (os: Offsets) => output(os, ['2']),
    calls: [B, ['1'], ['2'], ['3']],
    letters: [['2', 'OUTPUT_TOO_LARGE']],
    outputs: [1, 3],
    sleeps: [],
  },
  {
    name: 'a handler error is tried batchAttempts times with backoff, then the records are isolated',
    script: failWhen('2', handlerError),
    calls: [B, B, B, ['1'], ['2'], ['3']],
    letters: [['2', 'HANDLER_ERROR']],
    outputs: [1, 3],
    sleeps: [200, 400],
  },
  {
    name: 'a handler error that passes on a retry dead-letters nothing',
    script: failTimes(2, handlerError),
    calls: [B, B, B],
    letters: [],
    outputs: [1, 2, 3],
    sleeps: [200, 400],
  },
  {
    name: 'a RetryableException is retried while the partition is ours, never dead-lettered',
    script: failTimes(6, retryable),
    calls: Array(7).fill(B),
    letters: [],
    outputs: [1, 2, 3],
    sleeps: [200, 400, 800, 1000, 1000, 1000],
  },
  {
    name: 'a retryable failure while isolating backs off like the batch path (one backoff per batch), then the record passes',
    script: retryableAlone,
    calls: [B, B, B, ['1'], ['2'], ['2'], ['2'], ['3']],
    letters: [],
    outputs: [1, 2, 3],
    sleeps: [200, 400, 800, 1000],
  },
  {
    name: 'a single record that keeps failing is tried batchAttempts times, once more alone, then dead-lettered',
    offsets: ['1'],
    script: failWhen('1', handlerError),
    calls: [['1'], ['1'], ['1'], ['1']],
    letters: [['1', 'HANDLER_ERROR']],
    outputs: [],
    sleeps: [200, 400],
  },
  {
    name: 'several poison records are each dead-lettered',
    script: poisonOn(['1', '3']),
    calls: [B, ['1'], ['2'], ['3']],
    letters: [
      ['1', 'BAD_RECORD'],
      ['3', 'BAD_RECORD'],
    ],
    outputs: [2],
    sleeps: [],
  },
  {
    name: 'an empty batch (every record failed decoding) calls no handler',
    offsets: [],
    script: ok,
    calls: [],
    letters: [],
    outputs: [],
    sleeps: [],
  },
];

/** A partition that stops being ours (the consumer stops, or the group rebalanced). */
const LOST: LostRow[] = [
  {
    name: 'a partition lost when the handler fails: nothing to commit',
    script: failTimes(9, retryable),
    ours: (x: { calls: number }) => x.calls < 1,
    calls: 1,
    sleeps: [],
  },
  {
    name: 'a partition lost during the backoff: nothing to commit',
    script: failTimes(9, retryable),
    ours: (x: { sleeps: number }) => x.sleeps < 1,
    calls: 1,
    sleeps: [200],
  },
  {
    name: 'a partition lost while isolating: nothing to commit, nothing dead-lettered',
    script: failWhen('2', poison),
    ours: (x: { calls: number }) => x.calls < 3,
    calls: 3,
    sleeps: [],
  },
  {
    name: 'a partition lost during an isolated record’s backoff: nothing to commit',
    script: (os: Offsets) => {
      throw (os.length > 1 ? poison : retryable)();
    },
    ours: (x: { sleeps: number }) => x.sleeps < 1,
    calls: 2,
    sleeps: [200],
  },
];

/** A handler that says the rest of the partition is not due yet. */
const DEFERRED: DeferredRow[] = [
  {
    name: 'a deferred result returns its deferral with what was handled before it',
    script: (os: Offsets) => ({
      ...output(os.slice(0, 1)),
      deferFrom: { offset: '2', until: 9 },
    }),
    calls: [B],
    outputs: [1],
  },
  {
    name: 'a deferral while isolating stops there: the records from it on are read again later',
    script: (os: Offsets) => {
      if (os.length > 1) throw handlerError();
      return os[0] === '2' ? { deferFrom: { offset: '2', until: 9 } } : output(os);
    },
    calls: [B, B, B, ['1'], ['2']],
    outputs: [1],
  },
];

describe('BatchAttempts: retries, isolation, dead letters', () => {
  it.each(SETTLED)('$name', async ({ offsets = B, script, calls, letters, outputs, sleeps }) => {
    const s = setup(script);
    const b = (await s.run(offsets))!;
    expect(s.calls).toEqual(calls);
    expect(lettersOf(b)).toEqual(letters);
    expect(outputsOf(b)).toEqual(outputs);
    expect(s.sleeps).toEqual(sleeps);
    expect(s.heartbeat).toHaveBeenCalledTimes(sleeps.length);
    expect(s.stalls.failed).toHaveBeenCalledTimes(sleeps.length);
    expect(b.deferFrom).toBeUndefined();
  });

  it.each(LOST)('$name', async ({ script, ours, calls, sleeps }) => {
    const s = setup(script, ours);
    expect(await s.run(B)).toBeUndefined();
    expect(s.calls).toHaveLength(calls);
    expect(s.sleeps).toEqual(sleeps);
  });
});

describe('BatchAttempts: deferral and rejections', () => {
  it.each(DEFERRED)('$name', async ({ script, calls, outputs }) => {
    const s = setup(script);
    const b = (await s.run(B))!;
    expect(s.calls).toEqual(calls);
    expect(outputsOf(b)).toEqual(outputs);
    expect(b.deferFrom).toEqual({ offset: '2', until: 9 });
  });

  it('records the handler rejects are dead-lettered with its code, logged once each and counted', async () => {
    const s = setup((os) => ({
      ...output(os.filter((o) => o !== '2')), // the handler's own decision, e.g. an unknown app
      rejected: [{ record: rec('2'), code: 'UNKNOWN_APP', message: 'no app a1' }],
    }));
    const b = (await s.run(B))!;
    expect(outputsOf(b)).toEqual([1, 3]);
    expect(lettersOf(b)).toEqual([['2', 'UNKNOWN_APP']]);
    expect(b.rejected).toBe(1);
    expect(s.logger.warn).toHaveBeenCalledWith({
      msg: 'dead-lettering record the handler rejects',
      topic: IN.name,
      partition: 0,
      offset: '2',
      code: 'UNKNOWN_APP',
      reason: 'no app a1',
    });
  });

  it('the dead letters of records that failed decoding come first, and are kept across retries', async () => {
    const letter: EncodedRecord = {
      topic: TOPICS.deadLetter.name,
      message: { value: '{}' },
      bytes: 10,
    };
    const s = setup(failTimes(1, handlerError));
    const b = (await s.run(B, [letter]))!;
    expect(b.records[0]).toBe(letter);
    expect(b.records).toHaveLength(4);
  });
});

describe('BatchAttempts: each call', () => {
  it('keeps the onCommit of every call that succeeded, in order', async () => {
    const order: string[] = [];
    const s = setup((os) => {
      if (os.length > 1) throw poison();
      return { onCommit: () => void order.push(os[0]) };
    });
    const b = (await s.run(B))!;
    b.onCommit.forEach((f) => f());
    expect(order).toEqual(['1', '2', '3']);
  });

  it('each retry marks the partition failing at the first offset tried, and a heartbeat that throws does not stop it', async () => {
    const s = setup((os, call) => {
      if (os.length > 1) throw handlerError();
      if (call === 5) throw retryable(); // record 2, alone
      return output(os);
    });
    s.heartbeat.mockRejectedValue(new Error('rebalancing'));
    await s.run(B);
    expect(s.stalls.failed.mock.calls.map((c) => c.slice(0, 3))).toEqual([
      [IN.name, 0, '1'],
      [IN.name, 0, '1'],
      [IN.name, 0, '2'],
    ]);
    expect(s.calls).toEqual([B, B, B, ['1'], ['2'], ['2'], ['3']]);
  });

  it('runs the handler in the context of the first record it is given', async () => {
    const { currentContext } = await import('@app/observability');
    const seen: Array<string | undefined> = [];
    const s = setup((os) => {
      seen.push(currentContext()?.correlationId);
      if (os.length > 1) throw poison();
    });
    await s.run(B);
    expect(seen).toEqual(['c-1', 'c-1', 'c-2', 'c-3']);
  });
});
