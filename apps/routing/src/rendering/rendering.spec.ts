import type { MessageElement } from '@app/contracts';
import {
  groupMessage,
  message,
} from '../../../../libs/routing-rules/test-fixtures/routing.fixtures';
import { renderApnsPayload } from './apns.renderer';
import { renderFcmMessage } from './fcm.renderer';
import { messageText } from './message-text.util';
import {
  effectivePrivacy,
  NEUTRAL_APNS_LOC_KEY,
  NEUTRAL_BODY,
  NEUTRAL_FCM_BODY_LOC_KEY,
  notificationContent,
} from './notification-content';
import { cutUtf16, fitBody } from './truncate.util';

const settings = (
  over: { hidePreview?: boolean; privacy?: 'full' | 'id_only' | null; sounds?: object } = {},
) => ({
  hidePreview: false,
  sounds: { c2c: null, group: null },
  privacy: null,
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

describe('languages (offlinePush.localized, device locale)', () => {
  const localized = {
    default: { title: 'New message', desc: 'You have mail' },
    'zh-Hant': { title: '新訊息', desc: '照片' },
    zh: { title: '新消息' },
    pt_BR: { desc: 'Foto' },
  };
  it.each<{
    name: string;
    m: ReturnType<typeof message>;
    locale: string | null;
    platform?: 'apns' | 'fcm';
    title: string | null;
    body: string | null;
  }>([
    {
      name: 'zh-Hant-TW → the zh-Hant entry',
      m: message({ offlinePush: { localized } }),
      locale: 'zh-Hant-TW',
      title: '新訊息',
      body: '照片',
    },
    {
      name: 'zh-Hans-CN → zh (title), its empty desc falls through to the message text',
      m: message({ offlinePush: { localized } }),
      locale: 'zh-Hans-CN',
      title: '新消息',
      body: 'hello',
    },
    {
      name: 'en → default',
      m: message({ offlinePush: { localized } }),
      locale: 'en',
      title: 'New message',
      body: 'You have mail',
    },
    {
      name: 'no locale on the device → default',
      m: message({ offlinePush: { localized } }),
      locale: null,
      title: 'New message',
      body: 'You have mail',
    },
    {
      name: 'pt-BR device, pt_BR key (case and _ ignored); title falls through to the nickname',
      m: message({ offlinePush: { localized } }),
      locale: 'PT-br',
      title: 'Alice',
      body: 'Foto',
    },
    {
      name: 'no match and no default → offlinePush.title / desc',
      m: message({
        offlinePush: { title: 'Chat', desc: 'Ping', localized: { fr: { desc: 'x' } } },
      }),
      locale: 'de',
      title: 'Chat',
      body: 'Ping',
    },
    {
      name: 'localized wins over apns.title and offlinePush.desc',
      m: message({
        offlinePush: {
          desc: 'Ping',
          apns: { title: 'iOS' },
          localized: { de: { title: 'Neu', desc: 'Hallo' } },
        },
      }),
      locale: 'de-AT',
      title: 'Neu',
      body: 'Hallo',
    },
    {
      name: 'android.title wins over offlinePush.title when no localized title',
      m: message({
        offlinePush: {
          title: 'Chat',
          android: { title: 'A' },
          localized: { de: { desc: 'Hallo' } },
        },
      }),
      locale: 'de',
      platform: 'fcm',
      title: 'A',
      body: 'Hallo',
    },
    {
      name: 'group: the localized desc keeps the sender prefix',
      m: groupMessage({ offlinePush: { localized } }),
      locale: 'zh-Hant',
      title: '新訊息',
      body: 'Ali: 照片',
    },
    {
      name: 'empty message text but a localized desc: push',
      m: message({ elements: [{ type: 'text', text: '' }], offlinePush: { localized } }),
      locale: 'en',
      title: 'New message',
      body: 'You have mail',
    },
    {
      name: 'empty message text and a localized entry without desc: no push',
      m: message({
        elements: [{ type: 'text', text: '' }],
        offlinePush: { localized: { zh: { title: 't' } } },
      }),
      locale: 'zh',
      title: null,
      body: null,
    },
  ])('$name', ({ m, locale, platform, title, body }) => {
    const c = notificationContent(m, settings(), platform ?? 'apns', { locale });
    if (body === null) return expect(c).toBeNull();
    expect(c).toMatchObject({ title, body, hidden: false, idOnly: false });
  });

  it.each([
    ['zh-Hant-TW', '你有一則新訊息'],
    // zh-HK writes Traditional: zh-Hant before the plain (Simplified) zh entry.
    ['zh-HK', '你有一則新訊息'],
    ['zh-CN', '你有一条新消息'],
    ['de', 'Neue Nachricht'],
    ['fr', 'Neue Nachricht'],
  ])('hidden preview on a %s device: the apps file neutral text %s', (locale, text) => {
    const texts = {
      newMessage: { 'zh-Hant': '你有一則新訊息', zh: '你有一条新消息', default: 'Neue Nachricht' },
    };
    const c = notificationContent(message(), settings({ hidePreview: true }), 'apns', {
      locale,
      texts,
    });
    expect(c).toMatchObject({ body: text, hidden: true });
  });

  it('without apps file texts the neutral text is the built-in English one', () => {
    const c = notificationContent(message(), settings({ hidePreview: true }), 'apns', {
      locale: 'zh-Hant-TW',
      texts: { newMessage: { fr: 'Nouveau message' } },
    });
    expect(c!.body).toBe(NEUTRAL_BODY);
  });
});

describe('localisation keys', () => {
  const m = message({
    offlinePush: {
      apns: {
        locKey: 'MSG_FMT',
        locArgs: ['Alice', 'hi'],
        titleLocKey: 'TITLE_FMT',
        titleLocArgs: ['Alice'],
      },
      android: {
        bodyLocKey: 'msg_fmt',
        bodyLocArgs: ['Alice', 'hi'],
        titleLocKey: 'title_fmt',
        titleLocArgs: ['Alice'],
      },
    },
  });

  it('APNs: loc-key, loc-args, title-loc-key, title-loc-args in aps.alert', () => {
    const fit = renderApnsPayload(m, notificationContent(m, settings(), 'apns')!, 1);
    expect(fit.ok && fit.value.aps).toMatchObject({
      alert: {
        title: 'Alice',
        'title-loc-key': 'TITLE_FMT',
        'title-loc-args': ['Alice'],
        'loc-key': 'MSG_FMT',
        'loc-args': ['Alice', 'hi'],
        body: 'hello',
      },
    });
  });

  it('APNs, hidden preview: the neutral loc-key replaces the body key and its arguments', () => {
    const fit = renderApnsPayload(
      m,
      notificationContent(m, settings({ hidePreview: true }), 'apns')!,
      1,
    );
    const alert = fit.ok && (fit.value.aps as { alert: Record<string, unknown> }).alert;
    expect(alert).toEqual({
      title: 'Alice',
      'title-loc-key': 'TITLE_FMT',
      'title-loc-args': ['Alice'],
      'loc-key': NEUTRAL_APNS_LOC_KEY,
      body: NEUTRAL_BODY,
    });
  });

  it('FCM: title_loc_key, title_loc_args, body_loc_key, body_loc_args in android.notification', () => {
    const fit = renderFcmMessage(m, notificationContent(m, settings(), 'fcm')!, null, 60);
    expect(fit.ok && fit.value.android?.notification).toEqual({
      sound: 'default',
      tag: 'c2c:alice',
      title_loc_key: 'title_fmt',
      title_loc_args: ['Alice'],
      body_loc_key: 'msg_fmt',
      body_loc_args: ['Alice', 'hi'],
    });
  });
});

describe('privacy id_only', () => {
  it.each<
    [
      string,
      'full' | 'id_only' | null | undefined,
      'full' | 'id_only' | undefined,
      'full' | 'id_only',
    ]
  >([
    ['user unset, app id_only', null, 'id_only', 'id_only'],
    ['user full over app id_only', 'full', 'id_only', 'full'],
    ['user id_only, app unset', 'id_only', undefined, 'id_only'],
    ['nothing set', undefined, undefined, 'full'],
  ])('%s → %s', (_n, user, app, expected) => {
    expect(effectivePrivacy(user === undefined ? undefined : { privacy: user }, app)).toBe(
      expected,
    );
  });

  const secretive = groupMessage({
    elements: [
      { type: 'text', text: 'the secret' },
      { type: 'custom', desc: '', ext: '{"k":"secret-ext"}' },
    ],
    offlinePush: {
      title: 'secret title',
      apns: {
        subTitle: 'secret sub',
        image: 'https://x.example/secret.png',
        locKey: 'K',
        locArgs: ['secret-arg'],
      },
      android: {
        image: 'https://x.example/secret.png',
        bodyLocKey: 'k',
        bodyLocArgs: ['secret-arg'],
      },
      localized: { default: { title: 'secret localized', desc: 'secret desc' } },
    },
  });
  const leaks = /secret|Ali|Weekend|hikers/;
  const idOnly = (platform: 'apns' | 'fcm', locale = 'en') =>
    notificationContent(secretive, settings(), platform, {
      locale,
      appPrivacy: 'id_only',
      texts: { newMessage: { zh: '新消息' } },
    })!;

  it('APNs: only the neutral text (by locale), mutable-content and the ids', () => {
    const fit = renderApnsPayload(secretive, idOnly('apns', 'zh-CN'), 5);
    expect(fit.ok && fit.value).toEqual({
      aps: {
        alert: { 'loc-key': NEUTRAL_APNS_LOC_KEY, body: '新消息' },
        sound: 'default',
        badge: 5,
        'thread-id': 'group:g-7',
        'mutable-content': 1,
      },
      messageId: 'm-1',
      conversation: 'group:g-7',
    });
    expect(JSON.stringify(fit)).not.toMatch(leaks);
  });

  it('FCM (Android): data-only with messageId and conversation alone', () => {
    const fit = renderFcmMessage(secretive, idOnly('fcm'), 5, 60);
    expect(fit.ok && fit.value).toEqual({
      android: { priority: 'high', ttl: '60s' },
      data: { messageId: 'm-1', conversation: 'group:g-7' },
    });
    expect(JSON.stringify(fit)).not.toMatch(leaks);
  });

  it('FCM (web): a webpush block with headers only, the ids in data', () => {
    const fit = renderFcmMessage(secretive, idOnly('fcm'), 5, 60, {
      web: true,
      webDefaults: { icon: 'https://x.example/icon.png', link: 'https://x.example/' },
    });
    expect(fit.ok && fit.value).toEqual({
      webpush: { headers: { TTL: '60', Urgency: 'high' } },
      data: { messageId: 'm-1', conversation: 'group:g-7' },
    });
  });

  it('the user setting alone makes it id-only', () => {
    const c = notificationContent(secretive, settings({ privacy: 'id_only' }), 'apns')!;
    expect(c).toMatchObject({ idOnly: true, title: null, ext: null, body: NEUTRAL_BODY });
  });
});

describe('FCM data-only', () => {
  const m = message({
    elements: [{ type: 'custom', desc: 'Ping', ext: '{"k":"v"}' }],
    offlinePush: {
      android: {
        dataOnly: true,
        priority: 'normal',
        image: 'https://x.example/a.png',
        collapseKey: 'c1',
        channelId: 'chat',
      },
    },
  });

  it('message android.dataOnly: no notification, its fields as strings in data, priority kept', () => {
    const fit = renderFcmMessage(m, notificationContent(m, settings(), 'fcm')!, 3, 3600);
    expect(fit.ok && fit.value).toEqual({
      android: { priority: 'normal', ttl: '3600s', collapse_key: 'c1' },
      data: {
        messageId: 'm-1',
        conversation: 'c2c:alice',
        title: 'Alice',
        body: 'Ping',
        sound: 'default',
        badge: '3',
        image: 'https://x.example/a.png',
        ext: '{"k":"v"}',
      },
    });
  });

  it('the app fcm.dataOnly does the same for every message', () => {
    const plain = message();
    const fit = renderFcmMessage(plain, notificationContent(plain, settings(), 'fcm')!, null, 60, {
      dataOnly: true,
    });
    expect(fit.ok && fit.value).toEqual({
      android: { priority: 'high', ttl: '60s' },
      data: {
        messageId: 'm-1',
        conversation: 'c2c:alice',
        title: 'Alice',
        body: 'hello',
        sound: 'default',
      },
    });
  });

  it('hidden preview: the neutral text and its key, no message text', () => {
    const fit = renderFcmMessage(
      m,
      notificationContent(m, settings({ hidePreview: true }), 'fcm')!,
      null,
      60,
    );
    expect(fit.ok && fit.value.data).toMatchObject({
      body: NEUTRAL_BODY,
      bodyLocKey: NEUTRAL_FCM_BODY_LOC_KEY,
    });
    expect(JSON.stringify(fit)).not.toContain('Ping');
  });

  it('cuts the body in data to fit 4096 bytes', () => {
    const long = message({
      elements: [{ type: 'text', text: '😀'.repeat(3000) }],
      offlinePush: { android: { dataOnly: true } },
    });
    const fit = renderFcmMessage(long, notificationContent(long, settings(), 'fcm')!, 1, 60);
    expect(fit.ok && fit.truncated).toBe(true);
    expect(fit.bytes).toBeLessThanOrEqual(4096);
    expect(fit.ok && fit.value.data.body.endsWith('...')).toBe(true);
  });
});

describe('web and desktop devices (webpush)', () => {
  const m = message({
    elements: [{ type: 'text', text: 'Ping' }],
    offlinePush: {
      ext: '{"k":"v"}',
      android: { image: 'https://x.example/a.png', priority: 'normal' },
      web: {
        link: 'https://chat.example.com/c/alice',
        icon: 'https://chat.example.com/me.png',
        urgency: 'low',
      },
    },
  });

  it('is a webpush block with headers, notification, fcm_options.link and no android block', () => {
    const fit = renderFcmMessage(m, notificationContent(m, settings(), 'fcm')!, 2, 600, {
      web: true,
    });
    expect(fit.ok && fit.value).toEqual({
      webpush: {
        headers: { TTL: '600', Urgency: 'low' },
        notification: {
          title: 'Alice',
          body: 'Ping',
          icon: 'https://chat.example.com/me.png',
          tag: 'c2c:alice',
          image: 'https://x.example/a.png',
        },
        fcm_options: { link: 'https://chat.example.com/c/alice' },
      },
      data: { messageId: 'm-1', conversation: 'c2c:alice', ext: '{"k":"v"}' },
    });
  });

  it.each<[string, Parameters<typeof message>[0], string]>([
    ['web.urgency given', { offlinePush: { web: { urgency: 'very-low' } } }, 'very-low'],
    ['android.priority normal', { offlinePush: { android: { priority: 'normal' } } }, 'normal'],
    ['nothing: high, like Android', {}, 'high'],
  ])('Urgency: %s → %s', (_n, over, urgency) => {
    const w = message(over);
    const fit = renderFcmMessage(w, notificationContent(w, settings(), 'fcm')!, null, 60, {
      web: true,
    });
    expect(fit.ok && fit.value.webpush?.headers.Urgency).toBe(urgency);
  });

  it('takes icon and link from the apps file when the message has none', () => {
    const w = message();
    const fit = renderFcmMessage(w, notificationContent(w, settings(), 'fcm')!, null, 60, {
      web: true,
      webDefaults: { icon: 'https://x.example/app.png', link: 'https://x.example/' },
    });
    expect(fit.ok && fit.value.webpush).toMatchObject({
      notification: { icon: 'https://x.example/app.png' },
      fcm_options: { link: 'https://x.example/' },
    });
  });

  it('data-only web: headers only, the fields in data', () => {
    const w = message({ offlinePush: { android: { dataOnly: true } } });
    const fit = renderFcmMessage(w, notificationContent(w, settings(), 'fcm')!, null, 60, {
      web: true,
    });
    expect(fit.ok && fit.value).toEqual({
      webpush: { headers: { TTL: '60', Urgency: 'high' } },
      data: {
        messageId: 'm-1',
        conversation: 'c2c:alice',
        title: 'Alice',
        body: 'hello',
        sound: 'default',
      },
    });
  });

  it('counts webpush.notification in the 4096 bytes and cuts the body', () => {
    const long = message({ elements: [{ type: 'text', text: 'x'.repeat(5000) }] });
    const fit = renderFcmMessage(long, notificationContent(long, settings(), 'fcm')!, null, 60, {
      web: true,
    });
    expect(fit.ok && fit.truncated).toBe(true);
    expect(fit.bytes).toBeLessThanOrEqual(4096);
    expect(fit.bytes).toBeGreaterThan(4000);
  });
});
