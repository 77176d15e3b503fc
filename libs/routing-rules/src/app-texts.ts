import { pickLocalized } from './locale.util';

/** The built-in neutral texts, used when the apps file gives none for the device's locale. */
export const DEFAULT_APP_TEXTS = {
  /** Shown instead of the message when the preview is hidden or the privacy is `id_only`. */
  newMessage: 'You have a new message',
  /** Shown in place of a recalled message. */
  recalled: 'This message was recalled',
} as const;
export type AppTextName = keyof typeof DEFAULT_APP_TEXTS;

/** An app's `texts` section of the apps file: per text, a table locale → text. */
export type AppTextTables = Partial<Record<AppTextName, Readonly<Record<string, string>>>>;

/**
 * The app's text `name` for a device locale: the apps file's table by the locale fallback
 * (`zh-Hant-TW` → `zh-Hant` → `zh` → `default`), else the built-in English text.
 */
export function appText(
  texts: AppTextTables | null | undefined,
  name: AppTextName,
  locale: string | null | undefined,
): string {
  return pickLocalized(texts?.[name], locale) ?? DEFAULT_APP_TEXTS[name];
}
