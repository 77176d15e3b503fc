import { parseMessageBody, unknownFields } from './message-body.util';
import { PendingMessages } from './messages.service';
import { parseReadBody, parseRecallBody } from './lifecycle-body.util';

const message = {
  messageId: 'm-1',
  sentAt: '2030-01-01T00:00:00.000Z',
  conversation: { type: 'c2c', id: 'alice' },
  sender: { userId: 'alice' },
  recipients: ['bob'],
  elements: [{ type: 'text', text: 'hi' }],
};

const fieldsOf = (f: () => unknown): string[] => {
  try {
    f();
    return [];
  } catch (e) {
    return ((e as { errors?: Array<{ field: string }> }).errors ?? []).map((x) => x.field);
  }
};

describe('parseMessageBody', () => {
  it("takes the path's appId when the body leaves it out", () => {
    expect(parseMessageBody('demo', message).appId).toBe('demo');
    expect(parseMessageBody('demo', { ...message, appId: 'demo' }).appId).toBe('demo');
  });

  it("refuses a body appId other than the path's, naming appId", () => {
    expect(fieldsOf(() => parseMessageBody('demo', { ...message, appId: 'other' }))).toEqual([
      'appId',
    ]);
  });

  it('refuses unknown fields at any depth, naming each', () => {
    const body = {
      ...message,
      colour: 'red',
      sender: { userId: 'alice', nick: 'A' },
      elements: [{ type: 'text', text: 'hi', bold: true }],
      offlinePush: { apns: { sonud: 'x.aiff' } },
    };
    expect(fieldsOf(() => parseMessageBody('demo', body)).sort()).toEqual([
      'colour',
      'elements.0.bold',
      'offlinePush.apns.sonud',
      'sender.nick',
    ]);
  });

  it("keeps media elements' own fields (Tencent's element payloads)", () => {
    const body = { ...message, elements: [{ type: 'image', url: 'https://x.example/a.png' }] };
    expect(fieldsOf(() => parseMessageBody('demo', body))).toEqual([]);
  });

  it('refuses what is not an object, and schema errors name their fields', () => {
    expect(fieldsOf(() => parseMessageBody('demo', [message]))).toEqual(['(body)']);
    expect(
      fieldsOf(() => parseMessageBody('demo', { ...message, recipients: ['b\u0000'] })),
    ).toEqual(['recipients.0']);
  });

  it('unknownFields compares input with what the schema kept', () => {
    expect(unknownFields({ a: 1, b: { c: 1, d: 2 } }, { a: 1, b: { c: 1 } })).toEqual(['b.d']);
    expect(unknownFields([{ x: 1 }], [{}])).toEqual(['0.x']);
  });
});

describe('PendingMessages (backpressure of the messages API)', () => {
  const limits = {
    maxCount: 3,
    maxBytes: 1000,
    maxCountPerApp: 2,
    maxBytesPerApp: 600,
    retryAfterSeconds: 1,
  };

  it('admits up to the per-app caps, then refuses that app but not another', () => {
    const p = new PendingMessages(limits);
    expect(p.admit('a', 100)).toBeUndefined();
    expect(p.admit('a', 100)).toBeUndefined();
    expect(p.admit('a', 100)).toMatch(/messages of app a/);
    expect(p.admit('b', 100)).toBeUndefined();
    expect(p.count).toBe(3);
    // The total cap holds for everyone.
    expect(p.admit('c', 1)).toMatch(/3 messages are waiting/);
    p.release('a', 100);
    expect(p.admit('c', 1)).toBeUndefined();
  });

  it('caps bytes, over all apps and per app', () => {
    const p = new PendingMessages(limits);
    expect(p.admit('a', 500)).toBeUndefined();
    expect(p.admit('a', 200)).toMatch(/500 bytes of messages of app a/);
    expect(p.admit('b', 400)).toBeUndefined();
    expect(p.admit('c', 200)).toMatch(/900 bytes/);
    expect(p.bytes).toBe(900);
  });

  it('always admits one message alone, however large, and gives room back on release', () => {
    const p = new PendingMessages(limits);
    expect(p.admit('a', 5000)).toBeUndefined();
    expect(p.admit('b', 1)).toMatch(/bytes of messages are waiting/);
    p.release('a', 5000);
    expect(p.count).toBe(0);
    expect(p.bytes).toBe(0);
    expect(p.countOf('a')).toBe(0);
    expect(p.admit('b', 1)).toBeUndefined();
  });
});

describe('recall and read bodies', () => {
  const now = new Date('2030-01-01T00:00:00.000Z');
  const c2c = { conversation: { type: 'c2c', id: 'alice' } };

  it("completes a recall with the path's ids and now", () => {
    expect(parseRecallBody('demo', 'm-1', { ...c2c, recipients: ['bob'] }, now)).toEqual({
      appId: 'demo',
      messageId: 'm-1',
      conversation: { type: 'c2c', id: 'alice' },
      recipients: ['bob'],
      recalledAt: '2030-01-01T00:00:00.000Z',
    });
  });

  it.each([
    [{ ...c2c }, ['recipients']], // a c2c recall names the peer
    [{ ...c2c, recipients: ['bob'], colour: 'red' }, ['colour']],
    [{ ...c2c, recipients: ['bob'], messageId: 'm-2' }, ['messageId']],
    [{ conversation: { type: 'dm', id: 'x' } }, ['conversation.type']],
    [{ conversation: { type: 'group', id: 'g' }, recalledAt: 'yesterday' }, ['recalledAt']],
  ])('refuses recall body %j naming %j', (body, fields) => {
    expect(fieldsOf(() => parseRecallBody('demo', 'm-1', body, now))).toEqual(fields);
  });

  it('completes a read with the path ids and now; refuses unknown fields and bad ids', () => {
    expect(parseReadBody('demo', 'bob', { ...c2c, deviceId: 'pixel-1' }, now)).toEqual({
      appId: 'demo',
      userId: 'bob',
      conversation: { type: 'c2c', id: 'alice' },
      deviceId: 'pixel-1',
      readAt: '2030-01-01T00:00:00.000Z',
    });
    expect(fieldsOf(() => parseReadBody('demo', 'bob', { ...c2c, unread: 3 }, now))).toEqual([
      'unread',
    ]);
    expect(fieldsOf(() => parseReadBody('demo', 'b ob', c2c, now))).toEqual(['userId']);
    expect(fieldsOf(() => parseReadBody('demo', 'bob', [c2c], now))).toEqual(['(body)']);
  });
});
