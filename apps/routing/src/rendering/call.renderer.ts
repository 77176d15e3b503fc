import type { ImMessageSent, PushSettings } from '@app/contracts';
import { conversationKey, pickLocalized } from '@app/routing-rules';
import {
  effectivePrivacy,
  notificationContent,
  type ContentContext,
  type PushPlatform,
} from './notification-content';
import { fitBody, type FitResult } from './truncate.util';

/** A call rings for at most this long after it was sent (or `ttlSeconds`, when shorter). */
export const CALL_TTL_SECONDS = 30;
/** Apple's limit for VoIP payloads (5 KB); FCM's is the usual 4 KB. */
export const VOIP_PAYLOAD_LIMIT = 5120;
export const FCM_CALL_LIMIT = 4096;

/** What a call push says: the texts of the message, its conversation and its ext. */
export interface CallContent {
  title: string | null;
  body: string;
  ext: string | null;
  threadId: string;
  /** Privacy `id_only`: no title, ext or sender name; only the ids (the sender's user id). */
  idOnly?: boolean;
}

const nonEmpty = (s: string | null | undefined): s is string =>
  s !== null && s !== undefined && s !== '';

/**
 * The message's notification texts (same titles, overrides, languages, hidePreview and privacy as
 * a chat push). A call rings without text too (a signalling message often has none): then the
 * title is the default one and the body empty.
 */
export function callContent(
  m: ImMessageSent,
  settings: Pick<PushSettings, 'hidePreview' | 'sounds' | 'privacy'> | undefined,
  platform: PushPlatform,
  ctx: ContentContext = {},
): CallContent {
  const content = notificationContent(m, settings, platform, ctx);
  if (content) return content;
  const op = m.offlinePush;
  const idOnly = effectivePrivacy(settings, ctx.appPrivacy) === 'id_only';
  const localizedTitle = pickLocalized(op?.localized ?? undefined, ctx.locale)?.title;
  const platformTitle = platform === 'apns' ? op?.apns?.title : op?.android?.title;
  const defaultTitle = m.conversation.type === 'group' ? m.conversation.name : m.sender.nickname;
  const customExt = m.elements.find((e) => e.type === 'custom' && nonEmpty(e.ext));
  const title = [localizedTitle, platformTitle, op?.title, defaultTitle].find(nonEmpty) ?? null;
  const ext = nonEmpty(op?.ext) ? op.ext : customExt?.type === 'custom' ? customExt.ext : null;
  return {
    title: idOnly ? null : title,
    body: '',
    ext: idOnly ? null : (ext ?? null),
    threadId: conversationKey(m),
    idOnly,
  };
}

/** When a call push expires: `sentAt` + min(ttlSeconds, CALL_TTL_SECONDS). */
export function callExpiresAt(m: ImMessageSent): Date {
  return new Date(Date.parse(m.sentAt) + Math.min(m.ttlSeconds, CALL_TTL_SECONDS) * 1000);
}

const bytesOf = (v: unknown) => Buffer.byteLength(JSON.stringify(v), 'utf8');

/**
 * The PushKit payload of a call (APNs push type `voip`): the call's data for the app to report
 * to CallKit, no `aps` (no alert, badge or sound: the app rings through CallKit).
 */
export function renderVoipPayload(
  m: ImMessageSent,
  content: CallContent,
): FitResult<Record<string, unknown>> {
  const build = (body: string): Record<string, unknown> => {
    const sender: Record<string, unknown> = { userId: m.sender.userId };
    if (nonEmpty(m.sender.nickname) && !content.idOnly) sender.nickname = m.sender.nickname;
    const payload: Record<string, unknown> = {
      type: 'call',
      messageId: m.messageId,
      conversation: content.threadId,
      sender,
    };
    if (content.title !== null) payload.title = content.title;
    payload.body = body;
    if (content.ext !== null) payload.ext = content.ext;
    return payload;
  };
  return fitBody(content.body, VOIP_PAYLOAD_LIMIT, build, bytesOf);
}

/**
 * A call on FCM: a data-only message (no `notification`: the app shows its call screen), Android
 * priority high, the call's short ttl; every data value a string. A browser or desktop device
 * (`web`) gets the same data with Web Push headers (`Urgency: high`, `TTL`) instead of the
 * Android block.
 */
export function renderFcmCall(
  m: ImMessageSent,
  content: CallContent,
  ttlSeconds: number,
  web = false,
): FitResult<Record<string, unknown>> {
  const collapseKey = m.offlinePush?.android?.collapseKey;
  const build = (body: string) => {
    const data: Record<string, string> = {
      type: 'call',
      messageId: m.messageId,
      conversation: content.threadId,
      senderId: m.sender.userId,
    };
    if (nonEmpty(m.sender.nickname) && !content.idOnly) data.senderNickname = m.sender.nickname;
    if (content.title !== null) data.title = content.title;
    data.body = body;
    if (content.ext !== null) data.ext = content.ext;
    const ttl = Math.max(0, Math.floor(ttlSeconds));
    if (web) return { webpush: { headers: { TTL: String(ttl), Urgency: 'high' } }, data };
    const android: Record<string, unknown> = { priority: 'high', ttl: `${ttl}s` };
    if (collapseKey) android.collapse_key = collapseKey;
    return { android, data };
  };
  return fitBody(content.body, FCM_CALL_LIMIT, build, (v) => bytesOf(v.data));
}
