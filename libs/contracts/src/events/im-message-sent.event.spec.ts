import { ImMessageSentSchema, MAX_LOCALIZED_ENTRIES } from './im-message-sent.event';

const message = (offlinePush: unknown) => ({
  appId: 'demo',
  messageId: 'm-1',
  sentAt: '2026-11-26T05:00:00.000Z',
  conversation: { type: 'c2c', id: 'alice' },
  sender: { userId: 'alice' },
  recipients: ['bob'],
  elements: [{ type: 'text', text: 'hi' }],
  offlinePush,
});
const fields = (offlinePush: unknown) => {
  const r = ImMessageSentSchema.safeParse(message(offlinePush));
  return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
};
/** `n` valid locale keys: `qaa`, `qab`, … (private-use language codes). */
const locales = (n: number) =>
  Object.fromEntries(
    Array.from({ length: n }, (_, i) => [
      `q${String.fromCharCode(97 + Math.floor(i / 26))}${String.fromCharCode(97 + (i % 26))}`,
      { title: 't' },
    ]),
  );

describe('offlinePush: languages, data-only, web', () => {
  it('takes every new field at its bounds', () => {
    expect(
      fields({
        localized: {
          default: { title: 'New', desc: 'x'.repeat(4096) },
          'zh-Hant-TW': { title: '新', desc: '新訊息' },
          pt_BR: { desc: 'Nova' },
          ...locales(MAX_LOCALIZED_ENTRIES - 3),
        },
        apns: { locKey: 'MSG', locArgs: Array(20).fill('a'), titleLocKey: 'T', titleLocArgs: [] },
        android: { titleLocKey: 't', bodyLocKey: 'b', bodyLocArgs: ['x'], dataOnly: true },
        web: {
          link: 'https://chat.example.com/c/1',
          icon: 'https://x.example/i.png',
          urgency: 'very-low',
        },
      }),
    ).toEqual([]);
  });

  it.each<[string, unknown, string]>([
    [
      'more than 50 locales',
      { localized: locales(MAX_LOCALIZED_ENTRIES + 1) },
      'offlinePush.localized',
    ],
    [
      'a locale key with a space',
      { localized: { 'en US': { title: 't' } } },
      'offlinePush.localized.en US',
    ],
    ['a locale key of one letter', { localized: { e: { title: 't' } } }, 'offlinePush.localized.e'],
    [
      'a locale key over 35 characters',
      { localized: { [`en-${'a'.repeat(8)}-${'b'.repeat(8)}-${'c'.repeat(8)}-dddddddd`]: {} } },
      `offlinePush.localized.en-${'a'.repeat(8)}-${'b'.repeat(8)}-${'c'.repeat(8)}-dddddddd`,
    ],
    [
      'a localized desc over 4,096 characters',
      { localized: { en: { desc: 'x'.repeat(4097) } } },
      'offlinePush.localized.en.desc',
    ],
    [
      'a localized title over 512 characters',
      { localized: { en: { title: 'x'.repeat(513) } } },
      'offlinePush.localized.en.title',
    ],
    [
      '21 loc-args',
      { apns: { locKey: 'K', locArgs: Array(21).fill('a') } },
      'offlinePush.apns.locArgs',
    ],
    [
      'a loc-arg over 512 characters',
      { android: { bodyLocArgs: ['x'.repeat(513)] } },
      'offlinePush.android.bodyLocArgs.0',
    ],
    ['an empty loc key', { apns: { titleLocKey: '' } }, 'offlinePush.apns.titleLocKey'],
    [
      'a loc key with a control character',
      { android: { bodyLocKey: 'a\u0000' } },
      'offlinePush.android.bodyLocKey',
    ],
    ['dataOnly not a boolean', { android: { dataOnly: 1 } }, 'offlinePush.android.dataOnly'],
    ['an http link', { web: { link: 'http://chat.example.com/' } }, 'offlinePush.web.link'],
    ['a javascript: icon', { web: { icon: 'javascript:alert(1)' } }, 'offlinePush.web.icon'],
    [
      'an urgency Web Push does not know',
      { web: { urgency: 'urgent' } },
      'offlinePush.web.urgency',
    ],
  ])('refuses %s', (_n, offlinePush, field) => {
    expect(fields(offlinePush)).toContain(field);
  });
});
