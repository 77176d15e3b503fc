import { decodeCursor, encodeCursor } from './cursor';

describe('page cursors', () => {
  it('round-trips a position, ids with any characters included', () => {
    const position = ['user "ä"/1', '0d7c…', '2026-11-29'];
    const c = encodeCursor('message', position);
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor('message', c, 3)).toEqual(position);
  });

  it('refuses a cursor of another listing or another shape', () => {
    const c = encodeCursor('user', ['2026-11-29T10:00:00.000Z', 'job']);
    expect(decodeCursor('message', c, 2)).toBeUndefined();
    expect(decodeCursor('user', c, 3)).toBeUndefined();
    expect(decodeCursor('user', c, 2)).toEqual(['2026-11-29T10:00:00.000Z', 'job']);
  });

  it.each([
    ['not base64url', 'a+b/c='],
    ['not JSON', Buffer.from('{nope').toString('base64url')],
    ['another version', Buffer.from('{"v":2,"k":"user","p":["a","b"]}').toString('base64url')],
    ['numbers, not strings', Buffer.from('{"v":1,"k":"user","p":[1,2]}').toString('base64url')],
    ['too long', 'A'.repeat(3000)],
    ['empty', ''],
  ])('refuses %s', (_what, cursor) => {
    expect(decodeCursor('user', cursor, 2)).toBeUndefined();
  });
});
