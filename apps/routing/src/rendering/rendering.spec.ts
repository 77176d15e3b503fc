import type { MessageElement } from '@app/contracts';
import {
  groupMessage,
  message,
} from '../../../../libs/routing-rules/test-fixtures/routing.fixtures';
import { renderApnsPayload } from './apns.renderer';
import { renderFcmMessage } from './fcm.renderer';
import { messageText } from './message-text.util';
import {
  NEUTRAL_APNS_LOC_KEY,
  NEUTRAL_BODY,
  NEUTRAL_FCM_BODY_LOC_KEY,
  notificationContent,
} from './notification-content';
import { cutUtf16, fitBody } from './truncate.util';

const settings = (over = {}) => ({
  hidePreview: false,
  sounds: { c2c: null, group: null },
  ...over,
});

describe('message text (Tencent element rules)', () => {
  it.each<[string, MessageElement[], string]>([
    [
      'text + custom desc',
      [
        { type: 'text', text: 'hello' },
        { type: 'custom', desc: 'world' },
      ],
      'helloworld',
    ],
    ['text + image', [{ type: 'text', text: 'Test' }, { type: 'image' }], 'Test[Image]'],
    ['audio', [{ type: 'audio' }], '[Audio]'],
    ['video', [{ type: 'video' }], '[Video]'],
    ['file', [{ type: 'file' }], '[File]'],
    ['location', [{ type: 'location' }], '[Location]'],
    ['face', [{ type: 'face' }], '[Face]'],
    ['custom without desc', [{ type: 'custom', desc: '' }], ''],
    ['empty text', [{ type: 'text', text: '' }], ''],
    [
      'order kept, nothing between',
      [{ type: 'image' }, { type: 'text', text: ' and ' }, { type: 'face' }],
      '[Image] and [Face]',
    ],
  ])('%s', (_n, elements, expected) => expect(messageText(elements)).toBe(expected));
});

describe('title and body', () => {
  const rows: Array<{
    name: string;
    m: ReturnType<typeof message>;
    platform?: 'apns' | 'fcm';
    title: string | null;
    body: string | null;
  }> = [
    { name: 'C2C: nickname as title, text as body', m: message(), title: 'Alice', body: 'hello' },
    {
      name: 'C2C without nickname: no title, never the user id',
      m: message({ sender: { userId: 'alice' } }),
      title: null,
      body: 'hello',
    },
    {
      name: 'C2C ignores the nameCard (a group notion)',
      m: message({ sender: { userId: 'alice', nickname: 'Alice', nameCard: 'Ali' } }),
      title: 'Alice',
      body: 'hello',
    },
    {
      name: 'group: group name, nameCard: text',
      m: groupMessage(),
      title: 'Weekend hikers',
      body: 'Ali: hello',
    },
    {
      name: 'group without nameCard: nickname',
      m: groupMessage({ sender: { userId: 'alice', nickname: 'Alice' } }),
      title: 'Weekend hikers',
      body: 'Alice: hello',
    },
    {
      name: 'group without any name: just the text, never the user id',
      m: groupMessage({ sender: { userId: 'alice' } }),
      title: 'Weekend hikers',
      body: 'hello',
    },
    {
      name: 'group without a name: no title',
      m: groupMessage({ conversation: { type: 'group', id: 'g-7' } }),
      title: null,
      body: 'Ali: hello',
    },
    {
      name: 'offlinePush.desc replaces the message text',
      m: groupMessage({ offlinePush: { desc: 'New photo' } }),
      title: 'Weekend hikers',
      body: 'Ali: New photo',
    },
    {
      name: 'offlinePush.title replaces the default title',
      m: message({ offlinePush: { title: 'Chat' } }),
      title: 'Chat',
      body: 'hello',
    },
    {
      name: 'apns.title wins on APNs',
      m: message({
        offlinePush: { title: 'Chat', apns: { title: 'iOS title' }, android: { title: 'A' } },
      }),
      platform: 'apns',
      title: 'iOS title',
      body: 'hello',
    },
    {
      name: 'android.title wins on FCM',
      m: message({
        offlinePush: { title: 'Chat', apns: { title: 'iOS title' }, android: { title: 'A' } },
      }),
      platform: 'fcm',
      title: 'A',
      body: 'hello',
    },
    {
      name: 'empty text and no desc: no push',
      m: message({ elements: [{ type: 'text', text: '' }] }),
      title: null,
      body: null,
    },
    {
      name: 'empty text but a desc: push',
      m: message({
        elements: [{ type: 'custom', desc: '' }],
        offlinePush: { desc: 'Call missed' },
      }),
      title: 'Alice',
      body: 'Call missed',
    },
  ];
  it.each(rows)('$name', ({ m, platform, title, body }) => {
    const c = notificationContent(m, settings(), platform ?? 'apns');
    if (body === null) return expect(c).toBeNull();
    expect(c).toMatchObject({ title, body, hidden: false });
  });
});

describe('sound, ext, hidePreview', () => {
  const custom: MessageElement = { type: 'custom', desc: 'x', ext: '{"a":1}', sound: 'elem.aiff' };
  it.each<[string, Parameters<typeof message>[0], object, 'apns' | 'fcm', string]>([
    [
      'platform sound first (APNs)',
      { elements: [custom], offlinePush: { apns: { sound: 'ios.caf' } } },
      {},
      'apns',
      'ios.caf',
    ],
    [
      'platform sound first (FCM)',
      { elements: [custom], offlinePush: { android: { sound: 'ring' } } },
      {},
      'fcm',
      'ring',
    ],
    [
      'then the custom element',
      { elements: [custom] },
      { sounds: { c2c: 'user.caf', group: null } },
      'apns',
      'elem.aiff',
    ],
    [
      'then the user setting for C2C',
      {},
      { sounds: { c2c: 'user.caf', group: 'g.caf' } },
      'apns',
      'user.caf',
    ],
    ['else default', {}, {}, 'fcm', 'default'],
  ])('%s', (_n, over, s, platform, sound) => {
    expect(notificationContent(message(over), settings(s), platform)!.sound).toBe(sound);
  });

  it('uses the group sound setting for groups', () => {
    const c = notificationContent(
      groupMessage(),
      settings({ sounds: { c2c: 'a', group: 'g.caf' } }),
      'apns',
    );
    expect(c!.sound).toBe('g.caf');
  });

  it('takes offlinePush.ext before a custom element ext', () => {
    const m = message({ elements: [custom], offlinePush: { ext: '{"b":2}' } });
    expect(notificationContent(m, settings(), 'apns')!.ext).toBe('{"b":2}');
    expect(notificationContent(message({ elements: [custom] }), settings(), 'apns')!.ext).toBe(
      '{"a":1}',
    );
    expect(notificationContent(message(), settings(), 'apns')!.ext).toBeNull();
  });

  it('hides the preview with a neutral localisable text', () => {
    const m = groupMessage();
    const c = notificationContent(m, settings({ hidePreview: true }), 'apns')!;
    expect(c).toMatchObject({ body: NEUTRAL_BODY, hidden: true, title: 'Weekend hikers' });
    const apns = renderApnsPayload(m, c, 1);
    expect(apns.ok && apns.value.aps).toMatchObject({
      alert: { 'loc-key': NEUTRAL_APNS_LOC_KEY, body: NEUTRAL_BODY },
    });
    expect(JSON.stringify(apns)).not.toContain('hello');
    const fcm = renderFcmMessage(
      m,
      notificationContent(m, settings({ hidePreview: true }), 'fcm')!,
      1,
      60,
    );
    expect(fcm.ok && fcm.value.android?.notification?.body_loc_key).toBe(NEUTRAL_FCM_BODY_LOC_KEY);
    expect(JSON.stringify(fcm)).not.toContain('hello');
  });
});

describe('APNs payload', () => {
  it('is the exact JSON APNs receives', () => {
    const m = groupMessage({
      elements: [
        { type: 'text', text: 'Look' },
        { type: 'image' },
        { type: 'custom', desc: '', ext: '{"id":1}' },
      ],
      offlinePush: {
        apns: {
          subTitle: 'sub',
          interruptionLevel: 'time-sensitive',
          image: 'https://x.example/i.png',
        },
      },
    });
    const fit = renderApnsPayload(m, notificationContent(m, settings(), 'apns')!, 4);
    expect(fit).toEqual({
      ok: true,
      truncated: false,
      bytes: expect.any(Number),
      value: {
        aps: {
          alert: { title: 'Weekend hikers', subtitle: 'sub', body: 'Ali: Look[Image]' },
          sound: 'default',
          badge: 4,
          'thread-id': 'group:g-7',
          'mutable-content': 1,
          'interruption-level': 'time-sensitive',
        },
        image: 'https://x.example/i.png',
        ext: '{"id":1}',
      },
    });
  });

  it('leaves the badge out when null (badgeMode 1)', () => {
    const m = message();
    const fit = renderApnsPayload(m, notificationContent(m, settings(), 'apns')!, null);
    expect(fit.ok && 'badge' in (fit.value.aps as object)).toBe(false);
    expect(fit.ok && (fit.value.aps as Record<string, unknown>)['thread-id']).toBe('c2c:alice');
  });
});

describe('FCM message', () => {
  it('is an HTTP v1 message with notification, android and data', () => {
    const m = message({
      elements: [{ type: 'custom', desc: 'Ping', ext: '{"k":"v"}' }],
      offlinePush: {
        android: {
          channelId: 'chat',
          priority: 'normal',
          image: 'https://x.example/a.png',
          collapseKey: 'c1',
        },
      },
    });
    const fit = renderFcmMessage(m, notificationContent(m, settings(), 'fcm')!, 3, 3600);
    expect(fit.ok && fit.value).toEqual({
      notification: { title: 'Alice', body: 'Ping', image: 'https://x.example/a.png' },
      android: {
        priority: 'normal',
        ttl: '3600s',
        collapse_key: 'c1',
        notification: {
          channel_id: 'chat',
          sound: 'default',
          tag: 'c2c:alice',
          notification_count: 3,
        },
      },
      data: { messageId: 'm-1', conversation: 'c2c:alice', ext: '{"k":"v"}' },
    });
  });
});

describe('4096-byte limit', () => {
  it('cuts only the body, UTF-16 aware, with "..."', () => {
    const long = '😀'.repeat(3000); // 12,000 bytes of 4-byte characters
    const m = message({
      elements: [{ type: 'text', text: long }],
      offlinePush: { ext: 'E'.repeat(500) },
    });
    const c = notificationContent(m, settings(), 'apns')!;
    const fit = renderApnsPayload(m, c, 1);
    expect(fit.ok).toBe(true);
    if (!fit.ok) return;
    expect(fit.truncated).toBe(true);
    expect(fit.bytes).toBeLessThanOrEqual(4096);
    expect(fit.bytes).toBeGreaterThan(4000);
    const body = (fit.value.aps as { alert: { body: string } }).alert.body;
    expect(body.endsWith('...')).toBe(true);
    expect(body.slice(0, -3)).toMatch(/^(😀)+$/u); // no half emoji
    expect(fit.value.ext).toBe('E'.repeat(500));
    const fcm = renderFcmMessage(m, notificationContent(m, settings(), 'fcm')!, 1, 60);
    expect(fcm.ok && fcm.truncated).toBe(true);
    expect(fcm.ok && fcm.value.data.ext).toBe('E'.repeat(500));
  });

  it('fails when the ext alone is too large', () => {
    const m = message({ offlinePush: { ext: 'x'.repeat(4100) } });
    const fit = renderApnsPayload(m, notificationContent(m, settings(), 'apns')!, 1);
    expect(fit.ok).toBe(false);
    expect(fit.bytes).toBeGreaterThan(4096);
  });

  it.each([
    ['abc', 2, 'ab'],
    ['a😀b', 2, 'a'], // would split the surrogate pair
    ['a😀b', 3, 'a😀'],
    ['abc', 0, ''],
    ['abc', 9, 'abc'],
  ])('cutUtf16(%s, %i) = %s', (s, n, expected) => expect(cutUtf16(s, n)).toBe(expected));

  it('finds the longest body that fits', () => {
    const fit = fitBody(
      '0123456789',
      8,
      (b) => b,
      (v) => v.length,
    );
    expect(fit).toEqual({ ok: true, value: '01234...', bytes: 8, truncated: true });
  });
});
