import { defineTopic, HEADERS } from '@app/contracts';
import type { KafkaMessage } from 'kafkajs';
import { z } from 'zod';
import { RecordDecoder } from './record-decoder';

const Value = z.object({ id: z.string(), n: z.number() });
const events = defineTopic({
  name: 'test.events.v1',
  eventType: 'test.event.v1',
  cleanup: 'delete',
  keySpace: 'user',
  schema: Value,
  key: (v) => v.id,
});
const changelog = defineTopic({ ...events, name: 'test.state.v1', cleanup: 'compact' });

const message = (over: Partial<KafkaMessage> = {}): KafkaMessage =>
  ({
    offset: '7',
    timestamp: '1700000000000',
    key: Buffer.from('k1'),
    value: Buffer.from(JSON.stringify({ id: 'a', n: 1 })),
    headers: {},
    attributes: 0,
    size: 0,
    ...over,
  }) as unknown as KafkaMessage;

const decoder = new RecordDecoder([events, changelog]);
const CID = 'corr-1';
const TP = '00-0123456789abcdef0123456789abcdef-0123456789abcdef-01';

type Over = Partial<KafkaMessage>;

/** [name, topic, the message, the value handed over] */
const RECORDS: Array<[string, string, Over, unknown]> = [
  ['a valid value becomes a record', events.name, {}, { id: 'a', n: 1 }],
  [
    'an empty value on a compacted topic with a key is a tombstone',
    changelog.name,
    { value: Buffer.alloc(0) },
    null,
  ],
  [
    'a null value on a compacted topic with a key is a tombstone',
    changelog.name,
    { value: null },
    null,
  ],
  [
    'fields the schema does not know are stripped',
    events.name,
    { value: Buffer.from('{"id":"a","n":1,"x":2}') },
    { id: 'a', n: 1 },
  ],
];

/** [name, topic, the message, the dead-letter code] */
const DEAD_LETTER_REASONS: Array<[string, string, Over, string]> = [
  ['a topic nobody subscribed → UNKNOWN_TOPIC', 'other.v1', {}, 'UNKNOWN_TOPIC'],
  [
    'an empty value on a delete topic → EMPTY_VALUE',
    events.name,
    { value: Buffer.alloc(0) },
    'EMPTY_VALUE',
  ],
  ['a null value on a delete topic → EMPTY_VALUE', events.name, { value: null }, 'EMPTY_VALUE'],
  [
    'an empty value on a compacted topic without a key → EMPTY_VALUE',
    changelog.name,
    { value: null, key: null },
    'EMPTY_VALUE',
  ],
  [
    'an empty value on a compacted topic whose key is not UTF-8 → EMPTY_VALUE',
    changelog.name,
    { value: null, key: Buffer.from([0xff]) },
    'EMPTY_VALUE',
  ],
  [
    'invalid UTF-8 → INVALID_UTF8',
    events.name,
    { value: Buffer.from([0x7b, 0xc3, 0x28]) },
    'INVALID_UTF8',
  ],
  [
    'text that is not JSON → INVALID_JSON',
    events.name,
    { value: Buffer.from('{nope') },
    'INVALID_JSON',
  ],
  [
    'JSON the schema refuses → SCHEMA_VIOLATION naming the field',
    events.name,
    { value: Buffer.from('{"id":"a"}') },
    'SCHEMA_VIOLATION',
  ],
];

/** [name, headers, the context] */
const CARRIED_CONTEXTS: Array<[string, Record<string, string>, object]> = [
  [
    'a well-formed correlation id and traceparent are carried on',
    { [HEADERS.correlationId]: CID, [HEADERS.traceparent]: TP },
    { correlationId: CID, traceparent: TP },
  ],
  [
    'a correlation id without a trace keeps no trace',
    { [HEADERS.correlationId]: CID },
    { correlationId: CID, traceparent: undefined },
  ],
  [
    'a malformed traceparent is dropped',
    { [HEADERS.correlationId]: CID, [HEADERS.traceparent]: 'x' },
    { correlationId: CID, traceparent: undefined },
  ],
  [
    'a malformed correlation id gets a fresh one, keeping the trace',
    { [HEADERS.correlationId]: 'bad id!', [HEADERS.traceparent]: TP },
    { traceparent: TP },
  ],
];

const FRESH_CONTEXTS: Array<[string, Record<string, string>]> = [
  ['a record without correlation id gets a fresh context with a new trace', {}],
  [
    'a malformed correlation id and trace get a fresh context',
    { [HEADERS.correlationId]: 'bad id!', [HEADERS.traceparent]: 'x' },
  ],
];

/** [name, the message, a field of the record, its value] */
const FIELDS: Array<[string, Over, 'key' | 'headers' | 'timestamp', unknown]> = [
  ['a key that is not UTF-8 is null', { key: Buffer.from([0xff]) }, 'key', null],
  ['no key is null', { key: null }, 'key', null],
  [
    'headers become strings',
    { headers: { a: Buffer.from('x'), b: 'y' } },
    'headers',
    { a: 'x', b: 'y' },
  ],
  ['the record keeps the message as read', {}, 'timestamp', '1700000000000'],
];

describe('RecordDecoder: records', () => {
  it.each(RECORDS)('%s', (_name, topic, over, value) => {
    const d = decoder.decode(topic, 3, message(over));
    expect(d).toMatchObject({
      ok: true,
      record: { topic, partition: 3, offset: '7', key: 'k1', value },
    });
  });
});

describe('RecordDecoder: dead-letter reasons', () => {
  it.each(DEAD_LETTER_REASONS)('%s', (_name, topic, over, code) => {
    const m = message(over);
    const d = decoder.decode(topic, 0, m);
    expect(d).toMatchObject({ ok: false, reason: { code } });
    if (!d.ok) expect(d.message).toBe(m); // the original bytes go into the dead letter
  });

  it('names the failing field of a SCHEMA_VIOLATION', () => {
    const d = decoder.decode(events.name, 0, message({ value: Buffer.from('{"id":"a"}') }));
    expect(!d.ok && d.reason.message).toMatch(/^n: /);
  });
});

describe('RecordDecoder: the record context', () => {
  it.each(CARRIED_CONTEXTS)('%s', (_name, headers, context) => {
    const d = decoder.decode(events.name, 0, message({ headers }));
    expect(d.ok && d.record.context).toMatchObject(context);
    if (d.ok) expect(d.record.context.correlationId).toMatch(/^[A-Za-z0-9_.-]{1,128}$/);
  });

  it.each(FRESH_CONTEXTS)('%s', (_name, headers) => {
    const d = decoder.decode(events.name, 0, message({ headers }));
    expect(d.ok && d.record.context.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(d.ok && d.record.context.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
});

describe('RecordDecoder: key, headers, batches', () => {
  it.each(FIELDS)('%s', (_name, over, field, expected) => {
    const d = decoder.decode(events.name, 0, message(over));
    expect(d.ok && d.record[field]).toEqual(expected);
  });

  it('splits a batch into records to handle and records to dead-letter, in order', () => {
    const ms = [
      message({ offset: '1' }),
      message({ offset: '2', value: null }),
      message({ offset: '3' }),
    ];
    const { valid, invalid } = decoder.decodeBatch(events.name, 0, ms);
    expect(valid.map((r) => r.offset)).toEqual(['1', '3']);
    expect(valid[0].raw).toBe(ms[0]);
    expect(invalid.map((d) => [d.message.offset, d.reason.code])).toEqual([['2', 'EMPTY_VALUE']]);
  });
});
