import {
  ConversationKeySchema,
  DeviceTokenSchema,
  IdSchema,
  MAX_TOKEN_LENGTH,
  SoundSchema,
} from './common.schema';
import { ImageUrlSchema, ImMessageSentSchema } from './im-message-sent.event';
import { PushSettingsSchema, RegisteredDeviceSchema } from './token-user-devices.event';

const ok = (schema: { safeParse(v: unknown): { success: boolean } }, v: unknown) =>
  schema.safeParse(v).success;

describe('identifier rules', () => {
  it.each([
    ['alice', true],
    ['用户-42', true],
    ['😀', true],
    ['x'.repeat(128), true],
    ['', false],
    ['x'.repeat(129), false],
    ['a:b', false],
    ['a b', false],
    ['a\u0000b', false], // PostgreSQL refuses NUL in text: was a 500
    ['a\u0001', false],
    ['a\u001f', false],
    ['a\u007f', false],
    ['a\u0085', false],
    ['a\ud800', false], // a lone surrogate cannot be UTF-8
  ])('%j → valid %s', (id, expected) => {
    expect(ok(IdSchema, id)).toBe(expected);
  });
});

describe('device tokens', () => {
  it('are 1–1024 printable ASCII characters without space, quote or backslash', () => {
    expect(ok(DeviceTokenSchema, 'ab'.repeat(32))).toBe(true);
    expect(ok(DeviceTokenSchema, 'fX1:APA91b-_~')).toBe(true);
    expect(ok(DeviceTokenSchema, 'x'.repeat(MAX_TOKEN_LENGTH))).toBe(true);
    for (const bad of [
      '',
      'x'.repeat(MAX_TOKEN_LENGTH + 1),
      'a b',
      'a\u0000',
      'a"b',
      'a\\b',
      'é'.repeat(10),
    ]) {
      expect(ok(DeviceTokenSchema, bad)).toBe(false);
    }
  });

  it('bind the published snapshot too', () => {
    const device = {
      deviceId: 'd',
      platform: 'android',
      provider: 'fcm',
      token: 't',
      updatedAt: '2030-01-01T00:00:00.000Z',
    };
    expect(ok(RegisteredDeviceSchema, device)).toBe(true);
    expect(ok(RegisteredDeviceSchema, { ...device, token: 'x'.repeat(4096) })).toBe(false);
    expect(ok(RegisteredDeviceSchema, { ...device, topic: 'com.a\u0000' })).toBe(false);
  });
});

describe('sounds and conversation keys', () => {
  it('sounds are file names without control characters', () => {
    expect(ok(SoundSchema, 'ding.aiff')).toBe(true);
    expect(ok(SoundSchema, 'ding\u0000.aiff')).toBe(false);
    expect(ok(SoundSchema, '')).toBe(false);
  });

  it('conversation keys follow the id rules: c2c:<id> or group:<id>, id ≤ 128', () => {
    expect(ok(ConversationKeySchema, 'c2c:alice')).toBe(true);
    expect(ok(ConversationKeySchema, `group:${'g'.repeat(128)}`)).toBe(true);
    for (const bad of [
      `group:${'g'.repeat(129)}`,
      'c2c:',
      'team:x',
      'c2c:a:b',
      'c2c:a b',
      'c2c:a\u0000',
    ]) {
      expect(ok(ConversationKeySchema, bad)).toBe(false);
    }
    const settings = {
      pushEnabled: true,
      hidePreview: false,
      sounds: { c2c: null, group: null },
      conversations: { 'c2c:a\u0000': 'receive_not_notify' },
    };
    expect(ok(PushSettingsSchema, settings)).toBe(false);
  });
});

describe('im.message.sent.v1', () => {
  const message = {
    appId: 'demo',
    messageId: 'm-1',
    sentAt: '2030-01-01T00:00:00.000Z',
    conversation: { type: 'c2c', id: 'alice' },
    sender: { userId: 'alice' },
    recipients: ['bob'],
    elements: [{ type: 'text', text: 'hi' }],
  };

  it('refuses NUL in ids, message ids and sounds, as Kafka input too', () => {
    expect(ok(ImMessageSentSchema, message)).toBe(true);
    expect(ok(ImMessageSentSchema, { ...message, recipients: ['b\u0000b'] })).toBe(false);
    expect(ok(ImMessageSentSchema, { ...message, messageId: 'm\u0000' })).toBe(false);
    expect(
      ok(ImMessageSentSchema, {
        ...message,
        offlinePush: { apns: { sound: 'a\u0000.aiff' } },
      }),
    ).toBe(false);
  });

  it('takes only https image URLs', () => {
    expect(ok(ImageUrlSchema, 'https://cdn.example.com/a.png')).toBe(true);
    for (const bad of [
      'http://cdn.example.com/a.png',
      'javascript:alert(1)',
      'data:image/png;base64,AAAA',
      'file:///etc/passwd',
      'ftp://x.example/a.png',
      `https://x.example/${'a'.repeat(2048)}`,
    ]) {
      expect(ok(ImageUrlSchema, bad)).toBe(false);
    }
    const withImage = (image: string) => ({
      ...message,
      offlinePush: { apns: { image }, android: { image } },
    });
    expect(ok(ImMessageSentSchema, withImage('https://x.example/i.png'))).toBe(true);
    const r = ImMessageSentSchema.safeParse(withImage('http://x.example/i.png'));
    expect(r.success ? [] : r.error.issues.map((i) => i.path.join('.')).sort()).toEqual([
      'offlinePush.android.image',
      'offlinePush.apns.image',
    ]);
  });
});
