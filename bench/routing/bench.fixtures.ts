import { AppsRegistry } from '@app/config';
import {
  DEFAULT_PUSH_SETTINGS,
  type BadgeState,
  type PresenceUserState,
  type PushIntent,
  type TokenUserDevices,
} from '@app/contracts';

/** Realistic snapshots of one user with an iPhone and an Android phone. */
export function userSnapshots(appId: string, userId: string, now = new Date()) {
  const at = now.toISOString();
  const hex = (n: number) =>
    (BigInt(n) * 0x9e3779b97f4a7c15n).toString(16).padStart(64, '0').slice(-64);
  const seed = Number.parseInt(userId.replace(/\D/g, '').slice(-9) || '1', 10);
  const tokens: TokenUserDevices = {
    appId,
    userId,
    version: 3,
    updatedAt: at,
    devices: [
      {
        deviceId: `ios-${seed}`,
        platform: 'ios',
        provider: 'apns',
        token: hex(seed),
        topic: 'com.example.chat',
        environment: 'production',
        pushType: 'alert',
        locale: 'en',
        updatedAt: at,
      },
      {
        deviceId: `android-${seed}`,
        platform: 'android',
        provider: 'fcm',
        // FCM registration tokens are about 160 characters.
        token: `${hex(seed + 1)}:APA91b${hex(seed + 2)}${hex(seed + 3).slice(0, 30)}`,
        locale: 'en',
        updatedAt: at,
      },
    ],
    settings: {
      ...DEFAULT_PUSH_SETTINGS,
    },
  };
  const presence: PresenceUserState = {
    appId,
    userId,
    version: 7,
    updatedAt: at,
    devices: tokens.devices.map((d) => ({
      deviceId: d.deviceId,
      platform: d.platform,
      status: 'push_online' as const,
      since: at,
      lastSeenAt: at,
      unreadCount: 2,
    })),
  };
  const badges: BadgeState = {
    appId,
    userId,
    updatedAt: at,
    devices: { [`ios-${seed}`]: 3, [`android-${seed}`]: 3 },
    seq: 3,
    pushedAt: { [`ios-${seed}`]: at, [`android-${seed}`]: at },
    recent: ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb', 'cccccccccccccccc'],
  };
  return { tokens, presence, badges };
}

/** The benchmarks' one tenant: no suppression when online elsewhere, offline after 7 days. */
export function benchApps(appId: string): AppsRegistry {
  return new AppsRegistry({
    apps: [
      {
        id: appId,
        apiKeys: [`sha256:${'0'.repeat(64)}`],
        policy: { suppressWhenOnlineElsewhere: false, offlineAfterDays: 7 },
      },
    ],
  });
}

/** A push intent of a one-to-one (C2C) text message from `sender` to `userId`, as fan-out writes it. */
export function c2cIntent(
  appId: string,
  userId: string,
  messageId: string,
  at: string,
): PushIntent {
  return {
    appId,
    userId,
    fanoutAt: at,
    message: {
      appId,
      messageId,
      sentAt: at,
      conversation: { type: 'c2c', id: 'sender', name: null },
      sender: { userId: 'sender', nickname: 'Sender', nameCard: null },
      recipients: [userId],
      elements: [{ type: 'text', text: 'Are we still on for Saturday?' }],
      mentions: null,
      offlinePush: null,
      ttlSeconds: 3600,
    },
  };
}
