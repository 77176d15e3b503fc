import { PartitionParking } from './partition-parking';

const NOW = 1_000_000;

function setup() {
  const consumer = { pause: jest.fn(), seek: jest.fn(), resume: jest.fn() };
  let running = true;
  const parking = new PartitionParking(
    consumer,
    () => running,
    () => NOW,
  );
  return { consumer, parking, stop: () => (running = false) };
}

/** [name, due in ms, [advance the clock by, resumes so far]...] */
const RESUMES: Array<[string, number, Array<[number, number]>]> = [
  [
    'resumes when the deferral is due, not before',
    5000,
    [
      [4999, 0],
      [1, 1],
    ],
  ],
  ['a deferral already due resumes at once', -3000, [[1, 1]]],
  [
    'resumes once only',
    10,
    [
      [10, 1],
      [1000, 1],
    ],
  ],
];

type Setup = ReturnType<typeof setup>;

const STOPPED: Array<[string, (s: Setup) => void]> = [
  ['a timer that fires after the runner stopped does not resume', (s) => s.stop()],
  ['clear (on stop) cancels every timer', (s) => s.parking.clear()],
];

describe('PartitionParking: park and resume', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('pauses the partition and seeks back to the deferred offset at once', () => {
    const { consumer, parking } = setup();
    parking.park('t', 2, { offset: '40', until: NOW + 5000 });
    expect(consumer.pause).toHaveBeenCalledWith([{ topic: 't', partitions: [2] }]);
    expect(consumer.seek).toHaveBeenCalledWith({ topic: 't', partition: 2, offset: '40' });
    expect(consumer.resume).not.toHaveBeenCalled();
  });

  it.each(RESUMES)('%s', (_name, inMs, checkpoints) => {
    const { consumer, parking } = setup();
    parking.park('t', 2, { offset: '40', until: NOW + inMs });
    for (const [ms, resumes] of checkpoints) {
      jest.advanceTimersByTime(ms);
      expect(consumer.resume).toHaveBeenCalledTimes(resumes);
    }
    expect(consumer.resume).toHaveBeenCalledWith([{ topic: 't', partitions: [2] }]);
    expect(parking.parked).toBe(0);
  });

  it('parking a parked partition again replaces its timer', () => {
    const { consumer, parking } = setup();
    parking.park('t', 2, { offset: '40', until: NOW + 5000 });
    jest.advanceTimersByTime(4000);
    parking.park('t', 2, { offset: '41', until: NOW + 8000 });
    jest.advanceTimersByTime(1000); // the first timer's due time
    expect(consumer.resume).not.toHaveBeenCalled();
    jest.advanceTimersByTime(7000);
    expect(consumer.resume).toHaveBeenCalledTimes(1);
    expect(consumer.seek).toHaveBeenLastCalledWith({ topic: 't', partition: 2, offset: '41' });
  });
});

describe('PartitionParking: stopping, several partitions', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it.each(STOPPED)('%s', (_name, act) => {
    const s = setup();
    s.parking.park('t', 0, { offset: '1', until: NOW + 100 });
    s.parking.park('u', 1, { offset: '2', until: NOW + 100 });
    act(s);
    jest.advanceTimersByTime(1000);
    expect(s.consumer.resume).not.toHaveBeenCalled();
    expect(s.parking.parked).toBe(0);
  });

  it('parks partitions independently', () => {
    const { consumer, parking } = setup();
    parking.park('t', 0, { offset: '1', until: NOW + 100 });
    parking.park('t', 1, { offset: '2', until: NOW + 300 });
    jest.advanceTimersByTime(100);
    expect(consumer.resume.mock.calls).toEqual([[[{ topic: 't', partitions: [0] }]]]);
    expect(parking.parked).toBe(1);
    jest.advanceTimersByTime(200);
    expect(consumer.resume).toHaveBeenLastCalledWith([{ topic: 't', partitions: [1] }]);
  });
});
