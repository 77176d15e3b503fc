import type { ImMessageSent } from '@app/contracts';

/** The key of a group's membership record, the same as the key of its messages (co-partitioned). */
export const groupKey = (appId: string, groupId: string): string => `${appId}:group:${groupId}`;

/** What recipients are resolved from: a message, or a recall (whose sender may be unnamed). */
export type Addressed = Pick<ImMessageSent, 'appId' | 'recipients'> & {
  conversation: Pick<ImMessageSent['conversation'], 'type' | 'id'>;
  sender: { userId: string | null };
};

export type Recipients =
  | { ok: true; userIds: Iterable<string>; count: number }
  | { ok: false; code: 'UNKNOWN_GROUP'; message: string };

/**
 * Who gets an intent: the event's recipients, else the group's members; never the sender, never
 * twice. Returns an iterable so that a 100,000-member group is walked, not copied.
 */
export function resolveRecipients(
  m: Addressed,
  members: (key: string) => readonly string[] | undefined,
): Recipients {
  let list: readonly string[] | undefined = m.recipients ?? undefined;
  if (!list && m.conversation.type === 'group') {
    list = members(groupKey(m.appId, m.conversation.id));
  }
  if (!list) {
    return {
      ok: false,
      code: 'UNKNOWN_GROUP',
      message: `no recipients in the event and no membership of group ${m.conversation.id} in im.group-members.v1`,
    };
  }
  const source = list;
  const sender = m.sender.userId;
  const userIds = (function* () {
    const seen = new Set<string>();
    for (const id of source) {
      if (id === sender || seen.has(id)) continue;
      seen.add(id);
      yield id;
    }
  })();
  return { ok: true, userIds, count: source.length };
}
