import type { ImMessageSent } from '@app/contracts';

/** The conversation as the recipient sees it: a C2C thread is named after the peer (the sender). */
export const conversationKey = (m: ImMessageSent): string =>
  m.conversation.type === 'c2c' ? `c2c:${m.sender.userId}` : `group:${m.conversation.id}`;
