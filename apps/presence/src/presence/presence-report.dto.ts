import { IdSchema, PlatformSchema } from '@app/contracts';
import { z } from 'zod';

/** The app's own reports (Tencent's iOS "event reporting" calls). */
export const PresenceReportSchema = z
  .strictObject({
    type: z.enum(['foreground', 'background', 'logged_out']),
    /** The app's unread total, reported with `background`: the badge baseline for pushes. */
    unreadCount: z.number().int().min(0).max(1_000_000).optional(),
    /** Optional: only used when presence does not know the device yet (default `ios`). */
    platform: PlatformSchema.optional(),
  })
  .refine((r) => r.unreadCount === undefined || r.type === 'background', {
    path: ['unreadCount'],
    message: 'unreadCount is reported with type background only',
  });
export type PresenceReport = z.infer<typeof PresenceReportSchema>;

export const DevicePathSchema = z.object({
  appId: IdSchema,
  userId: IdSchema,
  deviceId: IdSchema,
});
export const UserPathSchema = z.object({ appId: IdSchema, userId: IdSchema });
