import {
  ImMessageSentSchema,
  type ImMessageSent,
  type PresenceUserState,
  type RegisteredDevice,
  type TokenUserDevices,
  DEFAULT_PUSH_SETTINGS,
} from '@app/contracts';
import type { z } from 'zod';

type MessageInput = z.input<typeof ImMessageSentSchema>;

/** A valid message, parsed like the consumer would (defaults applied), with overrides. */
export function message(over: Partial<MessageInput> = {}): ImMessageSent {
  return ImMessageSentSchema.parse({
    appId: 'demo',
    messageId: 'm-1',
    sentAt: '2026-11-26T05:00:00.000Z',
    conversation: { type: 'c2c', id: 'alice' },
    sender: { userId: 'alice', nickname: 'Alice' },
    recipients: ['bob'],
    elements: [{ type: 'text', text: 'hello' }],
    ...over,
  });
}

export function groupMessage(over: Partial<MessageInput> = {}): ImMessageSent {
  return message({
    conversation: { type: 'group', id: 'g-7', name: 'Weekend hikers' },
    sender: { userId: 'alice', nickname: 'Alice', nameCard: 'Ali' },
    recipients: ['bob', 'carol'],
    ...over,
  });
}

export const iphone = (over: Partial<RegisteredDevice> = {}): RegisteredDevice => ({
  deviceId: 'iphone-1',
  platform: 'ios',
  provider: 'apns',
  token: 'a'.repeat(64),
  topic: 'com.example.chat',
  environment: 'production',
  pushType: 'alert',
  locale: 'en',
  updatedAt: '2026-11-26T04:00:00.000Z',
  ...over,
});

export const pixel = (over: Partial<RegisteredDevice> = {}): RegisteredDevice => ({
  deviceId: 'pixel-1',
  platform: 'android',
  provider: 'fcm',
  token: 'fcm-token-0123456789',
  updatedAt: '2026-11-26T04:00:00.000Z',
  ...over,
});

export function tokens(
  devices: RegisteredDevice[],
  settings: Partial<TokenUserDevices['settings']> = {},
  userId = 'bob',
): TokenUserDevices {
  return {
    appId: 'demo',
    userId,
    version: 1,
    updatedAt: '2026-11-26T04:00:00.000Z',
    devices,
    settings: {
      ...DEFAULT_PUSH_SETTINGS,
      ...settings,
    },
  };
}

export function presence(
  devices: Array<Partial<PresenceUserState['devices'][number]> & { deviceId: string }>,
  userId = 'bob',
): PresenceUserState {
  return {
    appId: 'demo',
    userId,
    version: 1,
    updatedAt: '2026-11-26T04:30:00.000Z',
    devices: devices.map((d) => ({
      platform: 'ios',
      status: 'push_online',
      since: '2026-11-26T04:30:00.000Z',
      lastSeenAt: '2026-11-26T04:30:00.000Z',
      unreadCount: null,
      ...d,
    })),
  };
}
