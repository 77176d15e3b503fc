import { TOPICS } from '@app/contracts';
import { runWithContext } from '@app/observability';
import { deadLetterFor, deadLetterForRecord } from './dead-letter.util';
import { SchemaViolationException } from './kafka.exception';
import { decodeUtf8, encodeRecord, headersToStrings } from './record-codec';

const state = {
  appId: 'demo',
  userId: 'bob',
  version: 1,
  updatedAt: '2026-11-26T05:00:00.000Z',
  devices: [],
};

describe('encodeRecord', () => {
  it('keys by the topic key function and sets the standard headers from the context', () => {
    const msg = runWithContext(
      { correlationId: 'c-1', traceparent: '00-' + 'a'.repeat(32) + '-' + 'b'.repeat(16) + '-01' },
      () => encodeRecord(TOPICS.presenceUserState, state),
    );
    expect(msg.key).toBe('demo:bob');
    expect(JSON.parse(msg.value as string)).toEqual(state);
    expect(msg.headers).toMatchObject({
      'content-type': 'application/json',
      'event-type': 'presence.user-state',
      'x-correlation-id': 'c-1',
    });
  });

  it('refuses a value that fails the schema, naming the field', () => {
    expect(() => encodeRecord(TOPICS.presenceUserState, { ...state, version: -1 })).toThrow(
      SchemaViolationException,
    );
    expect(() => encodeRecord(TOPICS.presenceUserState, { ...state, userId: 'a:b' })).toThrow(
      /userId/,
    );
  });

  it('skips the schema only for values a tested builder marked prevalidated', () => {
    const bad = { ...state, version: -1 };
    expect(() => encodeRecord(TOPICS.presenceUserState, bad)).toThrow(SchemaViolationException);
    const msg = encodeRecord(TOPICS.presenceUserState, bad, { prevalidated: true });
    expect(msg.key).toBe('demo:bob');
    expect(JSON.parse(msg.value as string)).toEqual(bad);
  });

  it('allows a keyed tombstone only on a compacted topic', () => {
    expect(encodeRecord(TOPICS.presenceUserState, null, { key: 'demo:bob' }).value).toBeNull();
    expect(() => encodeRecord(TOPICS.presenceUserState, null)).toThrow(/key/);
    expect(() => encodeRecord(TOPICS.pushIntent, null, { key: 'demo:bob' })).toThrow(/compacted/);
  });

  it('gives every record a trace, even outside any request', () => {
    const msg = encodeRecord(TOPICS.presenceUserState, state);
    expect(String(msg.headers!.traceparent)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
});

describe('dead letters', () => {
  it('keep text verbatim and binary as base64, with source and reason', () => {
    const text = deadLetterFor(
      't',
      3,
      {
        key: Buffer.from('k'),
        value: Buffer.from('{"a":'),
        offset: '7',
        headers: { h: Buffer.from('v') },
      } as never,
      { code: 'INVALID_JSON', message: 'bad' },
    );
    expect(text.value).toMatchObject({
      source: { topic: 't', partition: 3, offset: '7', key: 'k' },
      error: { code: 'INVALID_JSON' },
      value: '{"a":',
      valueEncoding: 'utf8',
      headers: { h: 'v' },
    });
    const bin = deadLetterFor(
      't',
      0,
      { key: null, value: Buffer.from([0xc3, 0x28]), offset: '1', headers: {} } as never,
      { code: 'INVALID_UTF8', message: 'x' },
    );
    expect(bin.value).toMatchObject({
      value: Buffer.from([0xc3, 0x28]).toString('base64'),
      valueEncoding: 'base64',
    });
    expect(bin.key).toBeUndefined();
  });

  it('for a validated record the handler refused, keep its value as the JSON it was read as', () => {
    const letter = deadLetterForRecord(
      {
        topic: 'push.apns.request.v1',
        partition: 5,
        offset: '42',
        key: 'demo:bob',
        value: { jobId: 'j', n: 1 },
        headers: { 'x-correlation-id': 'c-1' },
        timestamp: '0',
        context: { correlationId: 'c-1' },
      },
      { code: 'PayloadTooLarge', message: 'too big' },
    );
    expect(letter.key).toBe('demo:bob');
    expect(letter.value).toMatchObject({
      source: { topic: 'push.apns.request.v1', partition: 5, offset: '42', key: 'demo:bob' },
      error: { code: 'PayloadTooLarge', message: 'too big' },
      value: '{"jobId":"j","n":1}',
      valueEncoding: 'utf8',
      headers: { 'x-correlation-id': 'c-1' },
    });
  });

  it('decodes UTF-8 strictly and headers leniently', () => {
    expect(decodeUtf8(Buffer.from('héllo'))).toBe('héllo');
    expect(decodeUtf8(Buffer.from([0xff]))).toBeUndefined();
    expect(
      headersToStrings({ a: Buffer.from('x'), b: 'y', c: [Buffer.from('z')], d: undefined }),
    ).toEqual({ a: 'x', b: 'y', c: 'z' });
  });
});
