import { TOPICS, type ImMessageSent, type PushIntent } from '@app/contracts';
import { encodeOutbound, outbound } from '@app/kafka';

/** The longest user id the contracts allow: an intent sized with it is an upper bound. */
const LONGEST_USER_ID = 'u'.repeat(128);

/**
 * Throws `RecordTooLargeException` when an intent of this message cannot fit push.intent.v1
 * (the intent embeds the message, less its recipients, plus the recipient and a few fields).
 */
export function checkIntentFits(m: ImMessageSent, fanoutAt: string): void {
  const message: ImMessageSent = {
    ...m,
    recipients: m.conversation.type === 'c2c' ? [LONGEST_USER_ID] : null,
  };
  const intent: PushIntent = { appId: m.appId, userId: LONGEST_USER_ID, message, fanoutAt };
  // Sized only: the message passed its schema when it was read, and the intents written from it
  // are validated when they are sent.
  encodeOutbound(
    outbound(TOPICS.pushIntent, intent, {
      context: { correlationId: 'x'.repeat(128) },
      prevalidated: true,
    }),
  );
}
