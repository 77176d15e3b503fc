import { ValidationProblem } from '@app/http';
import {
  AttributeNamesPipe,
  MergeAttributesBodySchema,
  ReplaceAttributesBodySchema,
  TagsBodySchema,
  TagsQuerySchema,
} from './audience.dto';

type Schema = {
  safeParse: (v: unknown) => { success: boolean; error?: { issues: { path: PropertyKey[] }[] } };
};
const fields = (schema: Schema, body: unknown) => {
  const r = schema.safeParse(body);
  return r.success ? [] : r.error!.issues.map((i) => i.path.join('.') || '(body)');
};
const tags = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`);

describe('TagsBodySchema (PUT and POST .../tags)', () => {
  it('stores the set unique and sorted, whatever the order and repeats', () => {
    expect(TagsBodySchema.parse({ tags: ['vip', 'city:berlin', 'vip', 'Vip'] })).toEqual({
      tags: ['Vip', 'city:berlin', 'vip'],
    });
    expect(TagsBodySchema.parse({ tags: [] })).toEqual({ tags: [] });
  });

  it.each<[string, unknown, string]>([
    ['no tags field', {}, 'tags'],
    ['tags not a list', { tags: 'vip' }, 'tags'],
    ['an empty tag', { tags: ['ok', ''] }, 'tags.1'],
    ['a 65-character tag', { tags: ['t'.repeat(65)] }, 'tags.0'],
    ['a space', { tags: ['a b'] }, 'tags.0'],
    ['a NUL', { tags: ['a\u0000'] }, 'tags.0'],
    ['a non-ASCII tag', { tags: ['caf\u00e9'] }, 'tags.0'],
    ['51 entries', { tags: tags(51) }, 'tags'],
    ['an unknown field', { tags: [], add: ['x'] }, '(body)'],
  ])('refuses %s naming %s', (_name, body, field) => {
    expect(fields(TagsBodySchema, body)).toContain(field);
  });

  it('takes 50 entries of 64 characters', () => {
    const long = tags(50).map((t) => t.padEnd(64, 'x'));
    expect(fields(TagsBodySchema, { tags: long })).toEqual([]);
  });
});

describe('TagsQuerySchema (DELETE .../tags)', () => {
  it.each<[string, object, string[] | undefined]>([
    ['no tag: all of them', {}, undefined],
    ['one tag', { tag: 'vip' }, ['vip']],
    ['repeated tags, sorted and unique', { tag: ['vip', 'a', 'vip'] }, ['a', 'vip']],
  ])('%s', (_name, query, expected) => {
    expect(TagsQuerySchema.parse(query).tags).toEqual(expected);
  });

  it.each<[string, object, string]>([
    ['a misspelt parameter (must not remove everything)', { tags: 'vip' }, 'tags'],
    ['a bad tag', { tag: 'a b' }, 'tag.0'],
    ['an empty tag', { tag: '' }, 'tag.0'],
    ['51 tags', { tag: tags(51) }, 'tag'],
    ['a nested object', { tag: { x: 'y' } }, 'tag'],
  ])('refuses %s naming %s', (_name, query, field) => {
    expect(fields(TagsQuerySchema, query)).toContain(field);
  });

  it('reads a query object without a prototype (what the query parser gives)', () => {
    const query = Object.assign(Object.create(null) as object, { tag: 'vip' });
    expect(TagsQuerySchema.parse(query).tags).toEqual(['vip']);
  });
});

describe('attribute bodies (PUT and PATCH .../attributes)', () => {
  it('takes 20 attributes at their longest, and empty values', () => {
    const attributes = Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [`${i}`.padEnd(32, 'k'), 'v'.repeat(128)]),
    );
    expect(fields(ReplaceAttributesBodySchema, { attributes })).toEqual([]);
    expect(fields(ReplaceAttributesBodySchema, { attributes: { city: '' } })).toEqual([]);
  });

  it.each<[string, unknown, string]>([
    ['no attributes field', {}, 'attributes'],
    ['a list', { attributes: ['a'] }, 'attributes'],
    ['a number value', { attributes: { age: 42 } }, 'attributes.age'],
    [
      'a null value (PUT replaces: leave the key out)',
      { attributes: { city: null } },
      'attributes.city',
    ],
    ['a 129-character value', { attributes: { city: 'b'.repeat(129) } }, 'attributes.city'],
    ['a control character', { attributes: { city: 'a\u001b' } }, 'attributes.city'],
    ['a bad name', { attributes: { 'a b': 'x' } }, 'attributes.a b'],
    [
      'a 33-character name',
      { attributes: { ['k'.repeat(33)]: 'x' } },
      `attributes.${'k'.repeat(33)}`,
    ],
    [
      '21 attributes',
      { attributes: Object.fromEntries(tags(21).map((t) => [t, 'v'])) },
      'attributes',
    ],
    ['an unknown field', { attributes: {}, tags: [] }, '(body)'],
  ])('PUT refuses %s naming %s', (_name, body, field) => {
    expect(fields(ReplaceAttributesBodySchema, body)).toContain(field);
  });

  it('PATCH takes null (removes the attribute) and refuses what PUT refuses', () => {
    expect(MergeAttributesBodySchema.parse({ attributes: { city: null, plan: 'pro' } })).toEqual({
      attributes: { city: null, plan: 'pro' },
    });
    expect(fields(MergeAttributesBodySchema, { attributes: { city: 1 } })).toContain(
      'attributes.city',
    );
  });

  it('refuses the name __proto__ (a record would drop it silently), naming it', () => {
    const body = JSON.parse('{"attributes":{"__proto__":"x"}}') as unknown;
    const pipe = new AttributeNamesPipe();
    expect(() => pipe.transform(body)).toThrow(ValidationProblem);
    try {
      pipe.transform(body);
    } catch (e) {
      expect(JSON.stringify(e)).toContain('attributes.__proto__');
    }
    expect(pipe.transform({ attributes: { constructor: 'x' } })).toEqual({
      attributes: { constructor: 'x' },
    });
    expect(pipe.transform(null)).toBeNull();
  });
});
