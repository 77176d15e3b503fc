import type { ImMessageSent, PushSettings } from '@app/contracts';
import { conversationKey } from '@app/routing-rules';
import { messageText } from './message-text.util';

/** The conversation as the recipient sees it (it lives with the decision rules). */
export { conversationKey };

export type PushPlatform = 'apns' | 'fcm';

/** Shown instead of the message when the user hides previews; apps localise it by key. */
export const NEUTRAL_BODY = 'You have a new message';
export const NEUTRAL_APNS_LOC_KEY = 'PUSH_NEW_MESSAGE';
export const NEUTRAL_FCM_BODY_LOC_KEY = 'push_new_message';
export const DEFAULT_SOUND = 'default';

/** The platform-neutral parts of one notification, before the provider's format. */
export interface NotificationContent {
  title: string | null;
  /** What the user reads (the neutral text when the preview is hidden). */
  body: string;
  /** True when `body` is the neutral text (settings.hidePreview). */
  hidden: boolean;
  sound: string;
  ext: string | null;
  /** One thread per conversation (`c2c:<peer>` from the recipient's view, or `group:<id>`). */
  threadId: string;
}

const nonEmpty = (s: string | null | undefined): s is string =>
  s !== null && s !== undefined && s !== '';

const firstCustom = (m: ImMessageSent, field: 'ext' | 'sound'): string | null => {
  for (const el of m.elements) {
    if (el.type === 'custom' && nonEmpty(el[field])) return el[field];
  }
  return null;
};

/**
 * Title, body, sound and ext for one recipient device, following Tencent IM's offline push
 * format. Null when there is nothing to show (empty text and no `offlinePush.desc`): no push.
 */
export function notificationContent(
  m: ImMessageSent,
  settings: Pick<PushSettings, 'hidePreview' | 'sounds'> | undefined,
  platform: PushPlatform,
): NotificationContent | null {
  const op = m.offlinePush;
  const text = nonEmpty(op?.desc) ? op.desc : messageText(m.elements);
  if (text === '') return null;
  const isGroup = m.conversation.type === 'group';
  // Never a user id: without a display name the body is the bare text and C2C has no title.
  const senderName = isGroup
    ? [m.sender.nameCard, m.sender.nickname].find(nonEmpty)
    : m.sender.nickname;
  const defaultTitle = isGroup ? m.conversation.name : m.sender.nickname;
  const platformTitle = platform === 'apns' ? op?.apns?.title : op?.android?.title;
  const title = [platformTitle, op?.title, defaultTitle].find(nonEmpty) ?? null;
  const body = isGroup && nonEmpty(senderName) ? `${senderName}: ${text}` : text;
  const hidden = settings?.hidePreview === true;
  const platformSound = platform === 'apns' ? op?.apns?.sound : op?.android?.sound;
  const userSound = isGroup ? settings?.sounds.group : settings?.sounds.c2c;
  const sound = [platformSound, firstCustom(m, 'sound'), userSound].find(nonEmpty) ?? DEFAULT_SOUND;
  return {
    title,
    body: hidden ? NEUTRAL_BODY : body,
    hidden,
    sound,
    ext: nonEmpty(op?.ext) ? op.ext : firstCustom(m, 'ext'),
    threadId: conversationKey(m),
  };
}
