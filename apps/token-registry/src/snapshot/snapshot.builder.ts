import {
  DEFAULT_PUSH_SETTINGS,
  type PushSettings,
  type RegisteredDevice,
  type TokenUserDevices,
} from '@app/contracts';
import type { DeviceEntity } from '../devices/device.entity';
import type { PushUserEntity } from '../users/push-user.entity';

export const DEFAULT_SETTINGS: Readonly<PushSettings> = DEFAULT_PUSH_SETTINGS;

export type UserState = Pick<
  PushUserEntity,
  | 'appId'
  | 'userId'
  | 'version'
  | 'pushEnabled'
  | 'hidePreview'
  | 'snoozeUntil'
  | 'dndStartSecond'
  | 'dndDurationSeconds'
  | 'dndTimeZone'
  | 'soundC2c'
  | 'soundGroup'
  | 'conversations'
  | 'privacy'
  | 'tags'
  | 'attributes'
  | 'updatedAt'
>;

export function settingsOf(user: UserState): PushSettings {
  return {
    pushEnabled: user.pushEnabled,
    hidePreview: user.hidePreview,
    snoozeUntil: user.snoozeUntil?.toISOString() ?? null,
    dnd:
      user.dndStartSecond !== null && user.dndDurationSeconds !== null && user.dndTimeZone !== null
        ? {
            startSecondOfDay: user.dndStartSecond,
            durationSeconds: user.dndDurationSeconds,
            timeZone: user.dndTimeZone,
          }
        : null,
    sounds: { c2c: user.soundC2c, group: user.soundGroup },
    conversations: { ...user.conversations },
    privacy: user.privacy,
  };
}

export function deviceOf(d: DeviceEntity): RegisteredDevice {
  return {
    deviceId: d.deviceId,
    platform: d.platform,
    provider: d.provider,
    token: d.token,
    topic: d.topic,
    environment: d.environment,
    pushType: d.pushType,
    locale: d.locale,
    updatedAt: d.updatedAt.toISOString(),
  };
}

/** Tags unique and in code-unit order, as the contract wants them (`UserTagsSchema`). */
export const sortedTags = (tags: Iterable<string>): string[] => [...new Set(tags)].sort();

/** Attributes with their keys in code-unit order: equal attributes, equal bytes. */
export function sortedAttributes(attributes: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(attributes).sort()) out[k] = attributes[k];
  return out;
}

/**
 * The whole user as `token.user-devices.v1` carries it. A user without devices is still published
 * (not a tombstone): their settings stay known, and a consumer sees "no devices" explicitly.
 * `tags` and `attributes` are left out when empty (absent = none): most users have neither, and
 * the snapshot of such a user stays byte for byte what it was before they existed.
 */
export function buildSnapshot(user: UserState, devices: DeviceEntity[]): TokenUserDevices {
  const snapshot: TokenUserDevices = {
    appId: user.appId,
    userId: user.userId,
    version: user.version,
    updatedAt: user.updatedAt.toISOString(),
    devices: [...devices].sort((a, b) => a.deviceId.localeCompare(b.deviceId)).map(deviceOf),
    settings: settingsOf(user),
  };
  if (user.tags.length) snapshot.tags = sortedTags(user.tags);
  if (Object.keys(user.attributes).length) snapshot.attributes = sortedAttributes(user.attributes);
  return snapshot;
}

/** What a listing shows of a token: enough to recognise it, never enough to push with. */
export function tokenPreview(token: string): string {
  if (token.length <= 16) return `${token.slice(0, 2)}…`;
  return `${token.slice(0, 6)}…${token.slice(-4)}`;
}
