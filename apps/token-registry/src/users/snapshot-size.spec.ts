import { MAX_USER_ATTRIBUTES, MAX_USER_TAGS, TokenUserDevicesSchema } from '@app/contracts';
import type { DeviceEntity } from '../devices/device.entity';
import { RegistryEnvSchema } from '../registry-env.schema';
import { buildSnapshot, type UserState } from '../snapshot/snapshot.builder';

/**
 * The largest `token.user-devices.v1` record a user can have at the registry's caps, built the
 * way the outbox builds it. Every text at its longest, in the characters that cost the most bytes
 * in JSON: U+0800 (3 bytes of UTF-8; control characters, which JSON escapes to 6, are refused).
 */
const wide = (n: number) => '\u0800'.repeat(n);

/** The most tags and attributes a user can hold, each at its longest (tags are ASCII only). */
const fullAudience = {
  tags: Array.from(
    { length: MAX_USER_TAGS },
    (_, i) => `${i.toString().padStart(2, '0')}${'t'.repeat(62)}`,
  ),
  attributes: Object.fromEntries(
    Array.from({ length: MAX_USER_ATTRIBUTES }, (_, i) => [
      `${i.toString().padStart(2, '0')}${'k'.repeat(30)}`,
      wide(128),
    ]),
  ),
};
const noAudience = { tags: [], attributes: {} };

function worstCaseSnapshotBytes(
  devices: number,
  conversations: number,
  audience: Pick<UserState, 'tags' | 'attributes'> = fullAudience,
): number {
  const now = new Date('2030-01-01T00:00:00.000Z');
  const user: UserState = {
    appId: wide(128),
    userId: wide(128),
    version: Number.MAX_SAFE_INTEGER,
    pushEnabled: true,
    hidePreview: true,
    snoozeUntil: now,
    dndStartSecond: 86399,
    dndDurationSeconds: 86400,
    dndTimeZone: 'America/Argentina/ComodRivadavia',
    soundC2c: wide(256),
    soundGroup: wide(256),
    conversations: Object.fromEntries(
      Array.from({ length: conversations }, (_, i) => [
        `group:${i.toString().padStart(6, '0')}${wide(122)}`,
        'receive_not_notify' as const,
      ]),
    ),
    privacy: 'id_only',
    ...audience,
    updatedAt: now,
  };
  const list = Array.from({ length: devices }, (_, i): DeviceEntity => ({
    appId: user.appId,
    userId: user.userId,
    deviceId: `${i.toString().padStart(3, '0')}${wide(125)}`,
    platform: 'ios',
    provider: 'apns',
    token: 'f'.repeat(1024),
    topic: wide(256),
    environment: 'production',
    pushType: 'background',
    locale: 'abcdefgh-abcdefgh-abcdefgh-abcdefg',
    createdAt: now,
    updatedAt: now,
  }));
  const snapshot = buildSnapshot(user, list);
  // Valid, so the outbox would take it.
  expect(TokenUserDevicesSchema.safeParse(snapshot).success).toBe(true);
  return Buffer.byteLength(JSON.stringify(snapshot));
}

describe("a user's snapshot at the caps", () => {
  const env = RegistryEnvSchema.shape;
  const defaults = {
    devices: env.REGISTRY_MAX_DEVICES_PER_USER.parse(undefined),
    conversations: env.REGISTRY_MAX_CONVERSATION_OPTIONS.parse(undefined),
  };

  it('defaults: 20 devices and 1,000 conversation options', () => {
    expect(defaults).toEqual({ devices: 20, conversations: 1000 });
  });

  it('is under 480 KB at the default caps (less than half of the 1 MB record limit), with 50 tags and 20 attributes', () => {
    const bytes = worstCaseSnapshotBytes(defaults.devices, defaults.conversations);
    expect(bytes).toBeLessThan(480 * 1024);
  });

  it('is under 700 KB with both caps at the highest values they can be set to', () => {
    expect(env.REGISTRY_MAX_DEVICES_PER_USER.safeParse('101').success).toBe(false);
    expect(env.REGISTRY_MAX_CONVERSATION_OPTIONS.safeParse('1001').success).toBe(false);
    const bytes = worstCaseSnapshotBytes(100, 1000);
    expect(bytes).toBeLessThan(700 * 1024);
  });

  it('carries the tags and attributes at their caps (50 and 20), ~11.5 KB of the worst case', () => {
    const added = worstCaseSnapshotBytes(0, 0) - worstCaseSnapshotBytes(0, 0, noAudience);
    expect(added).toBeGreaterThan(11_000);
    expect(added).toBeLessThan(12_000);
  });

  it('costs at most ~2.4 KB per device and ~415 bytes per conversation option', () => {
    const base = worstCaseSnapshotBytes(0, 0);
    expect(worstCaseSnapshotBytes(1, 0) - base).toBeLessThan(2500);
    expect(worstCaseSnapshotBytes(0, 1) - base).toBeLessThan(420);
  });
});
