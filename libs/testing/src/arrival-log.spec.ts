import { ArrivalLog } from './arrival-log';

describe('ArrivalLog', () => {
  it('keeps keys and times in order and reads them in slices', () => {
    const log = new ArrivalLog();
    log.add('m1', 10);
    log.add(undefined, 11);
    log.add('m2', 12);
    expect(log.count).toBe(3);
    expect(log.slice(0, 2)).toEqual({ next: 2, keys: ['m1', ''], ats: [10, 11] });
    expect(log.slice(2)).toEqual({ next: 3, keys: ['m2'], ats: [12] });
    expect(log.slice(3)).toEqual({ next: 3, keys: [], ats: [] });
    log.clear();
    expect(log.count).toBe(0);
  });
});
