import type { MessageElement } from '@app/contracts';

/** What Tencent IM shows for elements that carry no text of their own. */
export const ELEMENT_PLACEHOLDERS = {
  image: '[Image]',
  audio: '[Audio]',
  video: '[Video]',
  file: '[File]',
  location: '[Location]',
  face: '[Face]',
} as const;

/**
 * The push text of a message: element texts joined in order with nothing between them (Tencent:
 * text "hello" + custom desc "world" → "helloworld"; text "Test" + image → "Test[Image]").
 */
export function messageText(elements: readonly MessageElement[]): string {
  let out = '';
  for (const el of elements) {
    switch (el.type) {
      case 'text':
        out += el.text;
        break;
      case 'custom':
        out += el.desc ?? '';
        break;
      default:
        out += ELEMENT_PLACEHOLDERS[el.type];
    }
  }
  return out;
}
