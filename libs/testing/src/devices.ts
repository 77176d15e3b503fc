import {
  DEFAULT_PUSH_SETTINGS,
  TOPICS,
  type PresenceUserState,
  type RegisteredDevice,
  type TokenUserDevices,
} from '@app/contracts';
import { outbound, type EventProducer } from '@app/kafka';
import { randomBytes } from 'node:crypto';
import { FIXTURE_APNS_TOPIC } from './fake-apns/apns-request.fixture';

/** A new APNs device token (32 random bytes, hex: what iOS hands the app). */
export const apnsToken = (): string => randomBytes(32).toString('hex');

/** A new FCM registration token, shaped like a real one (`<instance id>:APA91b<...>`). */
export const fcmToken = (): string =>
  `${randomBytes(11).toString('base64url')}:APA91b${randomBytes(100).toString('base64url')}`;

/** An iPhone as the registry publishes it in a user's token snapshot. */
export const apnsDevice = (deviceId: string, token = 'ab'.repeat(32)): RegisteredDevice => ({
  deviceId,
  platform: 'ios',
  provider: 'apns',
  token,
  topic: FIXTURE_APNS_TOPIC,
  environment: 'sandbox',
  pushType: 'alert',
  locale: 'en',
  updatedAt: new Date().toISOString(),
});

/** An Android phone as the registry publishes it in a user's token snapshot. */
export const fcmDevice = (
  deviceId: string,
  token = `fcm-${deviceId}-0123456789`,
): RegisteredDevice => ({
  deviceId,
  platform: 'android',
  provider: 'fcm',
  token,
  updatedAt: new Date().toISOString(),
});

let version = 1;

/** Publishes a token snapshot of a `demo` user, as the registry would (a newer version each call). */
export async function publishTokens(
  producer: EventProducer,
  userId: string,
  devices: RegisteredDevice[],
  settings: Partial<TokenUserDevices['settings']> = {},
): Promise<void> {
  const value: TokenUserDevices = {
    appId: 'demo',
    userId,
    version: version++,
    updatedAt: new Date().toISOString(),
    devices,
    settings: { ...DEFAULT_PUSH_SETTINGS, ...settings },
  };
  await producer.send([outbound(TOPICS.tokenUserDevices, value)]);
}

/** Publishes a presence snapshot of a `demo` user, as presence would (iOS devices by default). */
export async function publishPresence(
  producer: EventProducer,
  userId: string,
  devices: Array<
    Pick<PresenceUserState['devices'][number], 'deviceId' | 'status'> & {
      unreadCount?: number;
      since?: string;
    }
  >,
): Promise<void> {
  const now = new Date().toISOString();
  const value: PresenceUserState = {
    appId: 'demo',
    userId,
    version: version++,
    updatedAt: now,
    devices: devices.map((d) => ({
      platform: 'ios',
      since: d.since ?? now,
      lastSeenAt: now,
      unreadCount: d.unreadCount ?? null,
      ...d,
    })),
  };
  await producer.send([outbound(TOPICS.presenceUserState, value)]);
}
