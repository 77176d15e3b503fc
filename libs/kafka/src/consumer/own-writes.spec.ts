import type { KafkaMessage } from 'kafkajs';
import type { EncodedRecord } from '../event.producer';
import { OwnWrites } from './own-writes';

const written = (topic: string, key: string, value: unknown): EncodedRecord => ({
  topic,
  message: { key, value: JSON.stringify(value) },
  bytes: 0,
});

const readBack = (key: string | null, value: unknown): KafkaMessage => ({
  key: key === null ? null : Buffer.from(key),
  value: value === null ? null : Buffer.from(JSON.stringify(value)),
  offset: '0',
  timestamp: '0',
  attributes: 0,
  headers: {},
});

describe('OwnWrites', () => {
  const badges = 'routing.badge-state.v1';
  const other = 'token.user-devices.v1';

  it('recognises the last committed write of a key read back, once', () => {
    const w = new OwnWrites(new Set([badges]));
    w.remember([written(badges, 'app:u1', { seq: 3, n: 'é' })]);
    expect(w.isEcho(badges, readBack('app:u1', { seq: 3, n: 'é' }))).toBe(true);
    // Once: the same bytes again (a restore, a redelivery) are applied as usual.
    expect(w.isEcho(badges, readBack('app:u1', { seq: 3, n: 'é' }))).toBe(false);
    expect(w.size).toBe(0);
  });

  it('applies what differs from the last write: an older write of the key, another key, other bytes', () => {
    const w = new OwnWrites(new Set([badges]));
    w.remember([written(badges, 'app:u1', { seq: 1 })]);
    w.remember([written(badges, 'app:u1', { seq: 2 })]);
    expect(w.isEcho(badges, readBack('app:u1', { seq: 1 }))).toBe(false);
    expect(w.isEcho(badges, readBack('app:u2', { seq: 2 }))).toBe(false);
    expect(w.isEcho(badges, readBack('app:u1', { seq: 2 }))).toBe(true);
  });

  it('only for the declared topics, never tombstones or keyless records', () => {
    const w = new OwnWrites(new Set([badges]));
    w.remember([written(other, 'app:u1', { seq: 1 }), written(badges, 'app:u1', { seq: 1 })]);
    expect(w.isEcho(other, readBack('app:u1', { seq: 1 }))).toBe(false);
    expect(w.isEcho(badges, readBack('app:u1', null))).toBe(false);
    expect(w.isEcho(badges, readBack(null, { seq: 1 }))).toBe(false);
    expect(w.size).toBe(1);
  });

  it('forgets everything on assignment (the state is restored from the changelog)', () => {
    const w = new OwnWrites(new Set([badges]));
    w.remember([written(badges, 'app:u1', { seq: 1 })]);
    w.clear();
    expect(w.isEcho(badges, readBack('app:u1', { seq: 1 }))).toBe(false);
  });
});
