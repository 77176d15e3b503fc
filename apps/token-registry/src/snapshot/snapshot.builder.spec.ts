import { TokenUserDevicesSchema } from '@app/contracts';
import type { DeviceEntity } from '../devices/device.entity';
import { buildSnapshot, tokenPreview, type UserState } from './snapshot.builder';

const user: UserState = {
  appId: 'demo',
  userId: 'bob',
  version: 9,
  pushEnabled: true,
  hidePreview: false,
  snoozeUntil: null,
  dndStartSecond: 79200,
  dndDurationSeconds: 28800,
  dndTimeZone: 'Europe/Berlin',
  soundC2c: null,
  soundGroup: 'bell.aiff',
  conversations: { 'group:g-7': 'receive_except_at' },
  privacy: 'id_only',
  tags: [],
  attributes: {},
  updatedAt: new Date('2026-11-26T05:00:00.000Z'),
};

const device = (deviceId: string): DeviceEntity => ({
  appId: 'demo',
  userId: 'bob',
  deviceId,
  platform: 'ios',
  provider: 'apns',
  token: 'ab'.repeat(32),
  topic: 'com.example.chat',
  environment: 'production',
  pushType: 'alert',
  locale: 'en',
  createdAt: new Date('2026-11-26T04:00:00.000Z'),
  updatedAt: new Date('2026-11-26T04:30:00.000Z'),
});

describe('buildSnapshot', () => {
  it('builds a snapshot that passes the topic schema, devices in id order', () => {
    const snap = buildSnapshot(user, [device('z'), device('a')]);
    expect(TokenUserDevicesSchema.parse(snap)).toEqual(snap);
    expect(snap.devices.map((d) => d.deviceId)).toEqual(['a', 'z']);
    expect(snap.settings).toEqual({
      pushEnabled: true,
      hidePreview: false,
      snoozeUntil: null,
      dnd: { startSecondOfDay: 79200, durationSeconds: 28800, timeZone: 'Europe/Berlin' },
      sounds: { c2c: null, group: 'bell.aiff' },
      conversations: { 'group:g-7': 'receive_except_at' },
      privacy: 'id_only',
    });
  });

  it('publishes privacy null for a user who follows the app', () => {
    const snap = buildSnapshot({ ...user, privacy: null }, []);
    expect(TokenUserDevicesSchema.parse(snap).settings.privacy).toBeNull();
  });

  it('reads a snapshot written before privacy existed (the field is optional)', () => {
    const older: Record<string, unknown> = { ...buildSnapshot(user, []).settings };
    delete older.privacy;
    const parsed = TokenUserDevicesSchema.parse({ ...buildSnapshot(user, []), settings: older });
    expect(parsed.settings.privacy).toBeUndefined();
  });

  it('leaves tags and attributes out when the user has none (older consumers see the same record)', () => {
    const snap = buildSnapshot(user, [device('a')]);
    expect(Object.keys(snap)).toEqual([
      'appId',
      'userId',
      'version',
      'updatedAt',
      'devices',
      'settings',
    ]);
  });

  it('carries tags unique and sorted, and attributes with sorted keys', () => {
    const snap = buildSnapshot(
      {
        ...user,
        tags: ['vip', 'city:berlin', 'Vip', 'vip'],
        attributes: { plan: 'pro', city: 'berlin' },
      },
      [],
    );
    expect(snap.tags).toEqual(['Vip', 'city:berlin', 'vip']);
    expect(JSON.stringify(snap.attributes)).toBe('{"city":"berlin","plan":"pro"}');
    expect(TokenUserDevicesSchema.parse(snap)).toEqual(snap);
  });

  it('reads a snapshot written before tags and attributes existed (both optional)', () => {
    const parsed = TokenUserDevicesSchema.parse(buildSnapshot(user, []));
    expect(parsed.tags).toBeUndefined();
    expect(parsed.attributes).toBeUndefined();
  });

  it('publishes a user without devices as an empty list, not a tombstone', () => {
    const snap = buildSnapshot(
      { ...user, dndStartSecond: null, dndDurationSeconds: null, dndTimeZone: null },
      [],
    );
    expect(snap.devices).toEqual([]);
    expect(snap.settings.dnd).toBeNull();
  });
});

describe('tokenPreview', () => {
  it('never shows a token whole', () => {
    const token = 'abcdef0123456789'.repeat(4);
    expect(tokenPreview(token)).toBe('abcdef…6789');
    expect(tokenPreview('short')).toBe('sh…');
  });
});
