import { localeChain, pickLocalized } from './locale.util';

describe('locale fallback', () => {
  it.each<[string | null, string[]]>([
    ['zh-Hant-TW', ['zh-hant-tw', 'zh-hant', 'zh']],
    ['en_US', ['en-us', 'en']],
    ['zh-TW', ['zh-tw', 'zh-hant', 'zh']],
    ['zh_HK', ['zh-hk', 'zh-hant', 'zh']],
    ['zh-MO', ['zh-mo', 'zh-hant', 'zh']],
    ['zh-CN', ['zh-cn', 'zh-hans', 'zh']],
    ['zh-SG', ['zh-sg', 'zh-hans', 'zh']],
    ['zh-Hans-TW', ['zh-hans-tw', 'zh-hans', 'zh']],
    ['zh', ['zh']],
    ['en-TW', ['en-tw', 'en']],
    ['fr', ['fr']],
    ['', []],
    [null, []],
  ])('chain of %p', (locale, chain) => expect(localeChain(locale)).toEqual(chain));

  const table = { default: 'D', zh: 'ZH', 'zh-Hant': 'HANT', 'en-GB': 'GB' };
  it.each<[string | null, string | undefined]>([
    ['zh-Hant-TW', 'HANT'],
    ['zh-Hans-CN', 'ZH'],
    ['ZH_hant', 'HANT'],
    ['zh-TW', 'HANT'],
    ['zh_HK', 'HANT'],
    ['zh-CN', 'ZH'],
    ['en-GB', 'GB'],
    ['en-US', 'D'],
    [null, 'D'],
  ])('pick for %p', (locale, expected) => expect(pickLocalized(table, locale)).toBe(expected));

  it('undefined without a match or a default', () => {
    expect(pickLocalized({ fr: 'x' }, 'de')).toBeUndefined();
    expect(pickLocalized(undefined, 'de')).toBeUndefined();
  });
});
