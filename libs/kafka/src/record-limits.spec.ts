import { Logger } from '@nestjs/common';
import { DeadLetterSchema, TOPICS } from '@app/contracts';
import type { KafkaMessage } from 'kafkajs';
import { deadLetterFor, deadLetterForRecord, redactToken } from './dead-letter.util';
import { encodeOutbound, outbound, splitByBytes } from './event.producer';
import { RecordTooLargeException } from './kafka.exception';
import { kafkaMetrics } from './kafka.metrics';
import { kafkaSettings } from './kafka.settings';
import { recordBytes, recordLimits } from './record-limits';
import { StallTracker } from './stall.tracker';

const msg = (value: Buffer | string, headers: Record<string, string> = {}) =>
  ({ key: Buffer.from('demo:bob'), value: Buffer.from(value), offset: '9', headers }) as never;

afterEach(() => {
  recordLimits.reset();
  recordLimits.configure(1048576);
  kafkaSettings.keepTokensInDeadLetters = false;
});

describe('record limits', () => {
  it('come from the setting, the contract, then the broker', () => {
    recordLimits.configure(2000000);
    expect(recordLimits.maxBytes(TOPICS.pushIntent)).toBe(2000000);
    expect(recordLimits.maxBytes('im.group-members.v1')).toBe(8388608); // the contract's own
    recordLimits.set(TOPICS.pushIntent.name, 500000);
    expect(recordLimits.maxBytes(TOPICS.pushIntent)).toBe(500000);
  });

  it('ask the broker again only a minute after it refused, not on every connect', async () => {
    let admins = 0;
    const refusing = {
      admin: () => {
        admins++;
        return {
          connect: () => Promise.reject(new Error('not authorised to describe configs')),
          disconnect: () => Promise.resolve(),
        };
      },
    } as never;
    await recordLimits.loadFromBroker(refusing);
    await recordLimits.loadFromBroker(refusing);
    await recordLimits.loadFromBroker(refusing);
    expect(admins).toBe(1);
    expect(recordLimits.maxBytes(TOPICS.pushIntent)).toBe(1048576); // the setting meanwhile
  });

  it('size a record above its bytes, headers included', () => {
    const m = { key: 'k', value: 'x'.repeat(100), headers: { h: 'v' } };
    expect(recordBytes(m)).toBeGreaterThan(103);
    expect(recordBytes(m)).toBeLessThan(200);
  });

  it('refuse a record that alone cannot fit, naming the topic and the limit', () => {
    recordLimits.set(TOPICS.deadLetter.name, 10000);
    const big = outbound(TOPICS.deadLetter, {
      source: { topic: 't', partition: 0, offset: '0', key: null },
      error: { code: 'X', message: 'y' },
      value: 'z'.repeat(20000),
      valueEncoding: 'utf8',
      headers: {},
      at: new Date().toISOString(),
    });
    expect(() => encodeOutbound(big)).toThrow(RecordTooLargeException);
    expect(() => encodeOutbound(big)).toThrow(/push\.dead-letter\.v1.*10000 bytes/);
  });

  it('split produce calls so that no topic gets more than its budget in one call', () => {
    recordLimits.set('a', 10000);
    recordLimits.set('b', 1000000);
    const rec = (topic: string, n: number) => ({
      topic,
      message: { value: 'x'.repeat(n) },
      bytes: n + 40,
    });
    const records = [rec('a', 4000), rec('b', 4000), rec('a', 4000), rec('a', 4000), rec('b', 10)];
    const calls = splitByBytes(records);
    expect(calls.map((c) => c.map((t) => `${t.topic}:${t.messages.length}`))).toEqual([
      ['a:2', 'b:1'],
      ['a:1', 'b:1'],
    ]);
    // Every call holds a contiguous run of the records, in order.
    expect(calls.flat().reduce((n, t) => n + t.messages.length, 0)).toBe(records.length);
  });
});

describe('dead letters within the limit', () => {
  it('200 KB of U+0001 (6x longer as JSON text) is kept whole, as base64', () => {
    const value = Buffer.from('\u0001'.repeat(200_000));
    const letter = deadLetterFor('im.message.sent.v1', 1, msg(value), {
      code: 'INVALID_JSON',
      message: 'bad',
    });
    const parsed = DeadLetterSchema.parse(letter.value);
    expect(parsed.valueEncoding).toBe('base64');
    expect(Buffer.from(parsed.value!, 'base64').equals(value)).toBe(true);
    expect(parsed.truncated).toBeUndefined();
    expect(() => encodeOutbound(letter)).not.toThrow();
  });

  it('a value that cannot fit is cut, flagged, sized and hashed; the letter fits', () => {
    const value = Buffer.alloc(1_040_000, 0xff); // not UTF-8: base64 would be 1.39 MB
    const letter = deadLetterFor('im.message.sent.v1', 1, msg(value), {
      code: 'INVALID_UTF8',
      message: 'x',
    });
    const parsed = DeadLetterSchema.parse(letter.value);
    expect(parsed.truncated).toBe(true);
    expect(parsed.originalBytes).toBe(value.length);
    expect(parsed.sha256).toMatch(/^[0-9a-f]{64}$/);
    const kept = Buffer.from(parsed.value!, 'base64');
    expect(kept.length).toBeGreaterThan(500_000);
    expect(kept.equals(value.subarray(0, kept.length))).toBe(true);
    expect(encodeOutbound(letter).bytes).toBeLessThanOrEqual(
      recordLimits.batchBudget(TOPICS.deadLetter),
    );
  });

  it('huge keys and headers are cut', () => {
    const m = {
      key: Buffer.from('k'.repeat(500_000)),
      value: Buffer.from('{}'),
      offset: '1',
      headers: Object.fromEntries(
        Array.from({ length: 100 }, (_, i) => [`h${i}`, 'v'.repeat(5000)]),
      ),
    } as never;
    const letter = deadLetterFor('t', 0, m, { code: 'X', message: 'y'.repeat(100_000) });
    const parsed = DeadLetterSchema.parse(letter.value);
    expect(parsed.source.key).toHaveLength(1024);
    expect(Object.keys(parsed.headers)).toHaveLength(32);
    expect(parsed.error.message).toHaveLength(4000);
    expect(() => encodeOutbound(letter)).not.toThrow();
  });

  it('hash device tokens unless told to keep them', () => {
    const value = JSON.stringify({ jobId: 'j', token: 'a'.repeat(64), payload: { x: 1 } });
    const letter = deadLetterFor(TOPICS.apnsRequest.name, 0, msg(value), {
      code: 'X',
      message: 'y',
    });
    const parsed = DeadLetterSchema.parse(letter.value);
    expect(parsed.redacted).toBe(true);
    expect(parsed.value).not.toContain('a'.repeat(64));
    expect(JSON.parse(parsed.value!)).toEqual({
      jobId: 'j',
      token: redactToken('a'.repeat(64)),
      payload: { x: 1 },
    });
    expect(parsed.originalBytes).toBe(Buffer.byteLength(value));
    kafkaSettings.keepTokensInDeadLetters = true;
    const kept = DeadLetterSchema.parse(
      deadLetterFor(TOPICS.apnsRequest.name, 0, msg(value), { code: 'X', message: 'y' }).value,
    );
    expect(kept.value).toBe(value);
    expect(kept.redacted).toBeUndefined();
  });

  it('registry snapshots: every device token is hashed', () => {
    const value = JSON.stringify({ devices: [{ token: 't1' }, { token: 't2' }] });
    const parsed = DeadLetterSchema.parse(
      deadLetterFor(TOPICS.tokenUserDevices.name, 0, msg(value), { code: 'X', message: 'y' }).value,
    );
    expect(JSON.parse(parsed.value!)).toEqual({
      devices: [{ token: redactToken('t1') }, { token: redactToken('t2') }],
    });
  });
});

describe('StallTracker', () => {
  const logger = new Logger('test');
  let now = 0;
  const gauge = async (topic: string, partition: number) =>
    (await kafkaMetrics.partitionStalled.get()).values.find(
      (v) =>
        v.labels.group === 'g' &&
        v.labels.topic === topic &&
        v.labels.partition === String(partition),
    )?.value;

  it('reports a partition failing on one offset past the threshold, until it moves on', async () => {
    const errors = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    const t = new StallTracker('g', 1000, logger, () => now);
    t.failed('in', 3, '42', new Error('broker says no'));
    now = 999;
    t.failed('in', 3, '42', new Error('broker says no'));
    expect(t.stalled()).toEqual([]);
    now = 1000;
    expect(t.stalled()).toMatchObject([
      { group: 'g', topic: 'in', partition: 3, offset: '42', attempts: 2, cause: 'broker says no' },
    ]);
    expect(await gauge('in', 3)).toBe(1);
    expect(errors).toHaveBeenCalledTimes(1);
    t.stalled();
    expect(errors).toHaveBeenCalledTimes(1); // logged once
    t.progressed('in', 3);
    expect(t.stalled()).toEqual([]);
    expect(await gauge('in', 3)).toBe(0);
  });

  it('restarts the clock at a new offset and forgets partitions no longer assigned', () => {
    const t = new StallTracker('g', 1000, logger, () => now);
    now = 0;
    t.failed('in', 1, '5', 'x');
    now = 900;
    t.failed('in', 1, '6', 'x'); // moved on, then failed again
    now = 1500;
    expect(t.stalled()).toEqual([]);
    t.failed('in', 2, '1', 'y');
    now = 5000;
    expect(t.stalled().map((p) => p.partition)).toEqual([1, 2]);
    t.retain({ in: [2] });
    expect(t.stalled().map((p) => p.partition)).toEqual([2]);
  });
});

describe('deadLetterFor keeps the original bytes of a record read from Kafka', () => {
  it('uses the raw message when the record has one', () => {
    const raw = {
      key: Buffer.from('demo:bob'),
      value: Buffer.from('{"appId":"demo","extra":1, "spaced": true}'),
      offset: '3',
      headers: {},
    } as unknown as KafkaMessage;
    const letter = deadLetterForRecord(
      {
        topic: 'im.message.sent.v1',
        partition: 0,
        offset: '3',
        key: 'demo:bob',
        value: { appId: 'demo' },
        headers: {},
        timestamp: '0',
        context: { correlationId: 'c' },
        raw,
      },
      { code: 'UNKNOWN_APP', message: 'x' },
    );
    expect((letter.value as { value: string }).value).toBe(
      '{"appId":"demo","extra":1, "spaced": true}',
    );
  });
});
