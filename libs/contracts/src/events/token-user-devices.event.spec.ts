import {
  TokenUserDevicesSchema,
  UserAttributesSchema,
  UserTagsSchema,
} from './token-user-devices.event';

const issues = (schema: { safeParse: (v: unknown) => { success: boolean } }, v: unknown) =>
  schema.safeParse(v).success;

describe('UserTagsSchema (token.user-devices.v1 tags)', () => {
  it.each<[string, string[]]>([
    ['none', []],
    ['one of every allowed character', ['Az09_.:@-']],
    ['64 characters', ['t'.repeat(64)]],
    ['50 tags, sorted', Array.from({ length: 50 }, (_, i) => `t${i.toString().padStart(2, '0')}`)],
    ['ASCII order: upper case before lower case', ['Vip', 'city:berlin', 'vip']],
  ])('takes %s', (_name, tags) => {
    expect(issues(UserTagsSchema, tags)).toBe(true);
  });

  it.each<[string, unknown]>([
    ['an empty tag', ['']],
    ['65 characters', ['t'.repeat(65)]],
    ['a space', ['a b']],
    ['a slash', ['a/b']],
    ['a non-ASCII letter', ['stra\u00dfe']],
    ['a control character', ['a\u0000']],
    ['a repeat', ['a', 'a']],
    ['the wrong order', ['b', 'a']],
    ['51 tags', Array.from({ length: 51 }, (_, i) => `t${i.toString().padStart(2, '0')}`)],
    ['a number', [1]],
  ])('refuses %s', (_name, tags) => {
    expect(issues(UserTagsSchema, tags)).toBe(false);
  });
});

describe('UserAttributesSchema (token.user-devices.v1 attributes)', () => {
  it.each<[string, Record<string, unknown>]>([
    ['none', {}],
    ['a 32-character name and a 128-character value', { ['k'.repeat(32)]: 'v'.repeat(128) }],
    ['an empty value', { city: '' }],
    ['any printable text', { name: 'Zo\u00eb \u6771\u4eac "x"' }],
    ['20 attributes', Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v']))],
  ])('takes %s', (_name, attributes) => {
    expect(issues(UserAttributesSchema, attributes)).toBe(true);
  });

  it.each<[string, Record<string, unknown>]>([
    ['an empty name', { '': 'v' }],
    ['a 33-character name', { ['k'.repeat(33)]: 'v' }],
    ['a name with ":"', { 'a:b': 'v' }],
    ['a 129-character value', { k: 'v'.repeat(129) }],
    ['a control character in a value', { k: 'a\u0007' }],
    ['a value that is not a string', { k: 1 }],
    ['21 attributes', Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v']))],
  ])('refuses %s', (_name, attributes) => {
    expect(issues(UserAttributesSchema, attributes)).toBe(false);
  });
});

describe('TokenUserDevicesSchema with tags and attributes', () => {
  const base = {
    appId: 'demo',
    userId: 'bob',
    version: 1,
    updatedAt: '2026-11-29T00:00:00.000Z',
    devices: [],
    settings: { pushEnabled: true, hidePreview: false, sounds: {}, conversations: {} },
  };

  it('parses a record without them (written before issue 16) and one with them', () => {
    expect(TokenUserDevicesSchema.parse(base).tags).toBeUndefined();
    const parsed = TokenUserDevicesSchema.parse({
      ...base,
      tags: ['vip'],
      attributes: { city: 'berlin' },
    });
    expect(parsed).toMatchObject({ tags: ['vip'], attributes: { city: 'berlin' } });
  });

  it('refuses a record whose tags break the rules', () => {
    const r = TokenUserDevicesSchema.safeParse({ ...base, tags: ['b', 'a'] });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0].path).toEqual(['tags']);
  });
});
