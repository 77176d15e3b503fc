import { z } from 'zod';
import { IdSchema, IsoDateSchema, PlatformSchema } from './common.schema';

export const DeviceEventTypeSchema = z.enum([
  'connected',
  'heartbeat',
  'foreground',
  'background',
  'disconnected',
  'logged_out',
]);
export type DeviceEventType = z.infer<typeof DeviceEventTypeSchema>;

export const PresenceDeviceEventSchema = z.object({
  appId: IdSchema,
  userId: IdSchema,
  deviceId: IdSchema,
  platform: PlatformSchema,
  type: DeviceEventTypeSchema,
  at: IsoDateSchema,
  unreadCount: z.number().int().min(0).max(1_000_000).nullish(),
});
export type PresenceDeviceEvent = z.infer<typeof PresenceDeviceEventSchema>;

export const PresenceStatusSchema = z.enum(['online', 'push_online', 'offline']);
export type PresenceStatus = z.infer<typeof PresenceStatusSchema>;

export const DevicePresenceSchema = z.object({
  deviceId: IdSchema,
  platform: PlatformSchema,
  status: PresenceStatusSchema,
  since: IsoDateSchema,
  lastSeenAt: IsoDateSchema,
  unreadCount: z.number().int().min(0).nullish(),
  /**
   * Optional additions (presence restores its state machine from them; others may ignore them):
   * the app state the device last reported, and why an `offline` device is offline.
   */
  app: z.enum(['foreground', 'background']).optional(),
  offlineReason: z.enum(['logged_out', 'not_seen']).optional(),
});
export type DevicePresence = z.infer<typeof DevicePresenceSchema>;

export const PresenceUserStateSchema = z.object({
  appId: IdSchema,
  userId: IdSchema,
  version: z.number().int().nonnegative(),
  updatedAt: IsoDateSchema,
  devices: z.array(DevicePresenceSchema),
});
export type PresenceUserState = z.infer<typeof PresenceUserStateSchema>;
