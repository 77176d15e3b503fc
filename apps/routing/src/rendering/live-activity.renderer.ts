import type { ImMessageSent, LiveActivity } from '@app/contracts';
import { fitBody, type FitResult } from './truncate.util';

/** APNs' limit for Live Activity payloads. */
export const LIVE_ACTIVITY_PAYLOAD_LIMIT = 4096;

const bytesOf = (v: unknown) => Buffer.byteLength(JSON.stringify(v), 'utf8');

/**
 * The APNs payload of a Live Activity update or end (push type `liveactivity`): `aps.timestamp`
 * (the message's `sentAt`, unix seconds: ActivityKit drops an update older than the one shown),
 * `event`, `content-state`, the optional dates, relevance score and alert. Only the alert body is
 * ever cut to fit; no badge, no sound beyond the alert's default.
 */
export function renderLiveActivityPayload(
  m: ImMessageSent,
  la: LiveActivity,
): FitResult<Record<string, unknown>> {
  const build = (body: string): Record<string, unknown> => {
    const aps: Record<string, unknown> = {
      timestamp: Math.floor(Date.parse(m.sentAt) / 1000),
      event: la.event,
      'content-state': la.contentState,
    };
    if (la.staleDate != null) aps['stale-date'] = la.staleDate;
    if (la.dismissalDate != null) aps['dismissal-date'] = la.dismissalDate;
    if (la.relevanceScore != null) aps['relevance-score'] = la.relevanceScore;
    if (la.alert) aps.alert = { title: la.alert.title, body };
    return { aps };
  };
  return fitBody(la.alert?.body ?? '', LIVE_ACTIVITY_PAYLOAD_LIMIT, build, bytesOf);
}
