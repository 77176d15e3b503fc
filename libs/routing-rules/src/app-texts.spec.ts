import { appText, DEFAULT_APP_TEXTS } from './app-texts';

describe('appText', () => {
  const texts = { recalled: { 'zh-Hant': '訊息已收回', default: 'Message withdrawn' } };
  it.each<
    [string, Parameters<typeof appText>[0], Parameters<typeof appText>[1], string | null, string]
  >([
    ['by the locale chain', texts, 'recalled', 'zh-Hant-HK', '訊息已收回'],
    ['the table default', texts, 'recalled', 'ja', 'Message withdrawn'],
    [
      'built-in when the text has no table',
      texts,
      'newMessage',
      'zh-Hant',
      DEFAULT_APP_TEXTS.newMessage,
    ],
    ['built-in without texts', undefined, 'recalled', 'en', 'This message was recalled'],
    [
      'built-in when nothing matches and no default',
      { newMessage: { fr: 'Nouveau' } },
      'newMessage',
      'de',
      'You have a new message',
    ],
  ])('%s', (_n, t, name, locale, expected) => expect(appText(t, name, locale)).toBe(expected));
});
