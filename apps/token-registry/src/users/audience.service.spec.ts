import { ValidationProblem } from '@app/http';
import {
  changeAttributes,
  changeTags,
  type AttributeChange,
  type TagChange,
} from './audience.service';

const fifty = Array.from({ length: 50 }, (_, i) => `t${i.toString().padStart(2, '0')}`);

describe('changeTags', () => {
  it.each<[string, string[], TagChange, string[]]>([
    ['replace', ['a', 'b'], { op: 'replace', tags: ['c'] }, ['c']],
    ['replace with none', ['a'], { op: 'replace', tags: [] }, []],
    [
      'add keeps the others, unique and sorted',
      ['b', 'x'],
      { op: 'add', tags: ['a', 'b'] },
      ['a', 'b', 'x'],
    ],
    ['add what is there: the same set', ['a'], { op: 'add', tags: ['a'] }, ['a']],
    ['remove the named ones', ['a', 'b', 'c'], { op: 'remove', tags: ['a', 'c', 'z'] }, ['b']],
    ['remove without names: all', ['a', 'b'], { op: 'remove' }, []],
    ['remove from none', [], { op: 'remove', tags: ['a'] }, []],
    [
      'add up to exactly 50',
      fifty.slice(0, 49),
      { op: 'add', tags: ['zz'] },
      [...fifty.slice(0, 49), 'zz'],
    ],
  ])('%s', (_name, current, change, expected) => {
    expect(changeTags(current, change)).toEqual(expected);
  });

  it('refuses an addition past 50 tags, naming tags and the count', () => {
    expect(() => changeTags(fifty, { op: 'add', tags: ['zz'] })).toThrow(ValidationProblem);
    try {
      changeTags(fifty, { op: 'add', tags: ['zz', 'zy'] });
    } catch (e) {
      expect(JSON.stringify(e)).toMatch(/"field":"tags".*would store 52/);
    }
  });
});

describe('changeAttributes', () => {
  const twenty = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v']));

  it.each<[string, Record<string, string>, AttributeChange, Record<string, string>]>([
    ['replace', { a: '1' }, { op: 'replace', attributes: { b: '2' } }, { b: '2' }],
    ['replace with none', { a: '1' }, { op: 'replace', attributes: {} }, {}],
    [
      'merge sets, keeps and removes',
      { a: '1', b: '2' },
      { op: 'merge', attributes: { a: null, c: '3', b: '9' } },
      { b: '9', c: '3' },
    ],
    [
      'merge removing what is not there',
      { a: '1' },
      { op: 'merge', attributes: { z: null } },
      { a: '1' },
    ],
    [
      'merge at 20 replacing a value',
      twenty,
      { op: 'merge', attributes: { k0: 'w' } },
      { ...twenty, k0: 'w' },
    ],
  ])('%s', (_name, current, change, expected) => {
    const next = changeAttributes(current, change);
    expect(next).toEqual(expected);
    expect(Object.keys(next)).toEqual(Object.keys(next).sort());
  });

  it('refuses a merge past 20 attributes, naming attributes', () => {
    expect(() => changeAttributes(twenty, { op: 'merge', attributes: { new: 'x' } })).toThrow(
      ValidationProblem,
    );
  });

  it('lets a user over a lowered cap come back under it', () => {
    const over = { ...twenty, k20: 'v', k21: 'v' };
    expect(
      Object.keys(changeAttributes(over, { op: 'merge', attributes: { k21: null } })),
    ).toHaveLength(21);
  });
});
