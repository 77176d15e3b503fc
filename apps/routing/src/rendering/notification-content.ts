import type { ImMessageSent, PushPrivacy, PushSettings } from '@app/contracts';
import {
  appText,
  conversationKey,
  DEFAULT_APP_TEXTS,
  pickLocalized,
  type AppTextTables,
} from '@app/routing-rules';
import { messageText } from './message-text.util';

/** The conversation as the recipient sees it (it lives with the decision rules). */
export { conversationKey };

export type PushPlatform = 'apns' | 'fcm';

/**
 * Shown instead of the message when the user hides previews (or the privacy is `id_only`) and the
 * apps file's `texts.newMessage` has nothing for the device's locale; apps also localise it by key.
 */
export const NEUTRAL_BODY = DEFAULT_APP_TEXTS.newMessage;
export const NEUTRAL_APNS_LOC_KEY = 'PUSH_NEW_MESSAGE';
export const NEUTRAL_FCM_BODY_LOC_KEY = 'push_new_message';
export const DEFAULT_SOUND = 'default';

/** The platform-neutral parts of one notification, before the provider's format. */
export interface NotificationContent {
  title: string | null;
  /** What the user reads (the neutral text when the preview is hidden). */
  body: string;
  /** True when `body` is the neutral text (settings.hidePreview, or id-only). */
  hidden: boolean;
  /**
   * Privacy `id_only` (the user's setting, else the app's): only the message id and the
   * conversation leave the platform; `title` is null, `body` the neutral text, `ext` null.
   */
  idOnly: boolean;
  /** The device's locale, as given (for the provider formats that pick by it). */
  locale: string | null;
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

/** What the device and the app add to the message: the locale and the apps file's choices. */
export interface ContentContext {
  /** The device's `locale` (BCP 47), for `offlinePush.localized` and the neutral text. */
  locale?: string | null;
  /** The apps file's `texts` (neutral texts per locale). */
  texts?: AppTextTables;
  /** The apps file's `privacy` (absent: `full`); the user's `settings.privacy` wins. */
  appPrivacy?: PushPrivacy;
}

/** The privacy that applies: the user's own setting, else the app's, else `full`. */
export const effectivePrivacy = (
  settings: Pick<PushSettings, 'privacy'> | undefined,
  appPrivacy: PushPrivacy | undefined,
): PushPrivacy => settings?.privacy ?? appPrivacy ?? 'full';

/**
 * Title, body, sound and ext for one recipient device, following Tencent IM's offline push
 * format. Null when there is nothing to show (empty text and no `desc`): no push.
 *
 * Per language: the entry of `offlinePush.localized` for the device's locale (fallback
 * `zh-Hant-TW` → `zh-Hant` → `zh` → `default`) gives the title before every other title and the
 * text before `offlinePush.desc` and the message text; an empty field falls through.
 */
export function notificationContent(
  m: ImMessageSent,
  settings: Pick<PushSettings, 'hidePreview' | 'sounds' | 'privacy'> | undefined,
  platform: PushPlatform,
  ctx: ContentContext = {},
): NotificationContent | null {
  const op = m.offlinePush;
  const locale = ctx.locale ?? null;
  const localized = pickLocalized(op?.localized ?? undefined, locale);
  const text = [localized?.desc, op?.desc].find(nonEmpty) ?? messageText(m.elements);
  if (text === '') return null;
  const isGroup = m.conversation.type === 'group';
  // Never a user id: without a display name the body is the bare text and C2C has no title.
  const senderName = isGroup
    ? [m.sender.nameCard, m.sender.nickname].find(nonEmpty)
    : m.sender.nickname;
  const defaultTitle = isGroup ? m.conversation.name : m.sender.nickname;
  const platformTitle = platform === 'apns' ? op?.apns?.title : op?.android?.title;
  const title = [localized?.title, platformTitle, op?.title, defaultTitle].find(nonEmpty) ?? null;
  const body = isGroup && nonEmpty(senderName) ? `${senderName}: ${text}` : text;
  const idOnly = effectivePrivacy(settings, ctx.appPrivacy) === 'id_only';
  const hidden = idOnly || settings?.hidePreview === true;
  const platformSound = platform === 'apns' ? op?.apns?.sound : op?.android?.sound;
  const userSound = isGroup ? settings?.sounds.group : settings?.sounds.c2c;
  const sound = [platformSound, firstCustom(m, 'sound'), userSound].find(nonEmpty) ?? DEFAULT_SOUND;
  return {
    title: idOnly ? null : title,
    body: hidden ? appText(ctx.texts, 'newMessage', locale) : body,
    hidden,
    idOnly,
    locale,
    sound,
    ext: idOnly ? null : nonEmpty(op?.ext) ? op.ext : firstCustom(m, 'ext'),
    threadId: conversationKey(m),
  };
}
