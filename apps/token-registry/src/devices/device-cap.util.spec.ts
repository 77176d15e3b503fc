import { devicesToEvict } from './device-cap.util';

const devs = (...ids: string[]) => ids.map((deviceId) => ({ deviceId }));

describe('devicesToEvict', () => {
  it('evicts nothing at or under the cap', () => {
    expect(devicesToEvict(devs('a', 'b'), 'a', 2)).toEqual([]);
  });

  it('evicts the least recently registered beyond the cap', () => {
    expect(devicesToEvict(devs('new', 'b', 'c', 'd'), 'new', 2)).toEqual(['c', 'd']);
  });

  it('never evicts the device being registered, even if listed last', () => {
    expect(devicesToEvict(devs('b', 'c', 'new'), 'new', 2)).toEqual(['c']);
  });

  it('with a cap of one keeps only the device being registered', () => {
    expect(devicesToEvict(devs('x', 'new', 'y'), 'new', 1)).toEqual(['x', 'y']);
  });
});
