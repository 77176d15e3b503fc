import type { UserState } from '../snapshot/snapshot.builder';
import { mergeSettings } from './settings.service';

const current: UserState = {
  appId: 'demo',
  userId: 'bob',
  version: 3,
  pushEnabled: true,
  hidePreview: true,
  snoozeUntil: new Date('2030-01-01T00:00:00.000Z'),
  dndStartSecond: 0,
  dndDurationSeconds: 60,
  dndTimeZone: 'UTC',
  soundC2c: 'a.aiff',
  soundGroup: null,
  conversations: { 'c2c:alice': 'receive_not_notify', 'group:g': 'receive_except_at' },
  privacy: 'id_only',
  tags: ['vip'],
  attributes: { city: 'berlin' },
  updatedAt: new Date(),
};

describe('mergeSettings', () => {
  it('keeps what the update leaves out', () => {
    const merged = mergeSettings(current, { pushEnabled: false });
    expect(merged).toMatchObject({
      pushEnabled: false,
      hidePreview: true,
      snoozeUntil: current.snoozeUntil,
      dndStartSecond: 0,
      soundC2c: 'a.aiff',
      conversations: current.conversations,
      privacy: 'id_only',
    });
    // Tags and attributes are not settings: the settings write leaves their columns alone.
    expect(merged).not.toHaveProperty('tags');
    expect(merged).not.toHaveProperty('attributes');
  });

  it.each<[string, { privacy?: 'full' | 'id_only' | null }, 'full' | 'id_only' | null]>([
    ['privacy left out: kept', {}, 'id_only'],
    ['privacy set', { privacy: 'full' }, 'full'],
    ['privacy null: follows the app again', { privacy: null }, null],
  ])('%s', (_n, patch, privacy) => {
    expect(mergeSettings(current, patch).privacy).toBe(privacy);
  });

  it('clears with null, and removes conversation options set to null or receive', () => {
    const merged = mergeSettings(current, {
      snoozeUntil: null,
      dnd: null,
      sounds: { c2c: null },
      conversations: { 'c2c:alice': null, 'group:g': 'receive', 'c2c:carol': 'receive_not_notify' },
    });
    expect(merged).toMatchObject({
      snoozeUntil: null,
      dndStartSecond: null,
      dndDurationSeconds: null,
      dndTimeZone: null,
      soundC2c: null,
      conversations: { 'c2c:carol': 'receive_not_notify' },
    });
  });
});
