import {
  apnsBackgroundPayload,
  apnsRecallPayload,
  collapseIdFor,
  DEFAULT_RECALLED_TEXT,
  fcmDataMessage,
  fcmRecallNotification,
  recalledText,
} from './lifecycle.renderer';

describe('lifecycle rendering', () => {
  it.each([
    ['m-1', 'm-1'],
    ['x'.repeat(64), 'x'.repeat(64)],
    ['é'.repeat(32), 'é'.repeat(32)], // 64 bytes
  ])('the collapse id of %s is the id when it fits 64 bytes', (id, expected) => {
    expect(collapseIdFor(id)).toBe(expected);
  });

  it.each(['x'.repeat(65), 'é'.repeat(33), '😀'.repeat(20)])(
    'a longer id %s becomes a digest within 64 bytes, the same every time',
    (id) => {
      const c = collapseIdFor(id);
      expect(c).toMatch(/^sha256:[A-Za-z0-9_-]{43}$/);
      expect(Buffer.byteLength(c)).toBeLessThanOrEqual(64);
      expect(collapseIdFor(id)).toBe(c);
      expect(collapseIdFor(`${id}!`)).not.toBe(c);
    },
  );

  const table = { default: 'Recalled', zh: '消息已撤回', 'zh-Hant': '訊息已收回' };
  it.each([
    ['zh-Hant-TW', '訊息已收回'],
    ['zh-CN', '消息已撤回'],
    ['fr', 'Recalled'],
    [null, 'Recalled'],
  ])('the recalled text for %s is %s (locale fallback)', (locale, text) => {
    expect(recalledText(table, locale)).toBe(text);
  });

  it('without texts.recalled the default text is used', () => {
    expect(recalledText(undefined, 'en')).toBe(DEFAULT_RECALLED_TEXT);
    expect(recalledText({ fr: 'Rappelé' }, 'en')).toBe(DEFAULT_RECALLED_TEXT);
  });

  it('renders exact bodies', () => {
    expect(apnsRecallPayload('Recalled', 'c2c:alice', 2, 'm-1')).toEqual({
      aps: { alert: { body: 'Recalled' }, badge: 2, 'thread-id': 'c2c:alice' },
      type: 'recall',
      recalled: ['m-1'],
      conversation: 'c2c:alice',
    });
    expect(apnsRecallPayload('Recalled', 'c2c:alice', null, 'm-1').aps).not.toHaveProperty('badge');
    expect(apnsBackgroundPayload('read', 0, { conversation: 'group:g' })).toEqual({
      aps: { 'content-available': 1, badge: 0 },
      type: 'read',
      conversation: 'group:g',
    });
    expect(fcmRecallNotification('Recalled', 'c2c:alice', 3, 'm-1', 60.7)).toEqual({
      notification: { body: 'Recalled' },
      android: {
        priority: 'high',
        ttl: '60s',
        notification: { tag: 'c2c:alice', notification_count: 3 },
      },
      data: { type: 'recall', messageId: 'm-1', conversation: 'c2c:alice' },
    });
    expect(fcmDataMessage({ type: 'read', conversation: 'c2c:a' }, 4, 10, 'normal')).toEqual({
      android: { priority: 'normal', ttl: '10s' },
      data: { type: 'read', conversation: 'c2c:a', badge: '4' },
    });
  });
});
