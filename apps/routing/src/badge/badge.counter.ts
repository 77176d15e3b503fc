import type { DevicePresence, OfflinePush } from '@app/contracts';
import type { PushPlatform } from '../rendering/notification-content';

/** Routing's count for one device and when routing last set it. */
export interface DeviceBadge {
  count: number;
  /** ISO time of the push that set `count`. */
  at: string;
}

export interface BadgeStep {
  /** The count to remember for the device. */
  next: DeviceBadge;
  /** The badge to send; null leaves the icon as it is (APNs `badgeMode: 1`). */
  shown: number | null;
}

/** Badges stay within what the contracts and the icons accept. */
export const MAX_BADGE = 99_999;

/**
 * Where counting starts: the device's own report when presence changed after routing's last push
 * (it came to the foreground, which resets, and reported its unread total on going to the
 * background), else routing's running count.
 */
export function badgeBaseline(
  prev: DeviceBadge | undefined,
  presence: DevicePresence | undefined,
): number {
  const reported = presence?.unreadCount ?? 0;
  if (!prev) return presence ? reported : 0;
  if (presence && Date.parse(presence.since) > Date.parse(prev.at)) return reported;
  return prev.count;
}

/** The badge for one more pushed message (Tencent: +1, or badgeSetNum / badgeAddNum / badgeMode). */
export function nextBadge(
  prev: DeviceBadge | undefined,
  presence: DevicePresence | undefined,
  offlinePush: OfflinePush | null | undefined,
  platform: PushPlatform,
  now: Date,
): BadgeStep {
  const baseline = badgeBaseline(prev, presence);
  const at = now.toISOString();
  const keep = (count: number, shown: number | null): BadgeStep => ({
    next: { count: Math.min(MAX_BADGE, Math.max(0, count)), at },
    shown: shown === null ? null : Math.min(MAX_BADGE, Math.max(0, shown)),
  });
  if (offlinePush?.badgeSetNum !== null && offlinePush?.badgeSetNum !== undefined) {
    return keep(offlinePush.badgeSetNum, offlinePush.badgeSetNum);
  }
  if (platform === 'apns' && offlinePush?.apns?.badgeMode === 1) return keep(baseline, null);
  const add = offlinePush?.badgeAddNum ?? 1;
  return keep(baseline + add, baseline + add);
}
