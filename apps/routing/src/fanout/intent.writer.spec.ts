import {
  ImMessageSentSchema,
  PushIntentEventSchema,
  TOPICS,
  type ImMessageSent,
} from '@app/contracts';
import { encodeOutbound, type EventProducer, type OutboundRecord } from '@app/kafka';
import { IntentWriter } from './intent.writer';

/** A message as fan-out gets it: parsed by its schema (defaults filled in). */
const parsed = (m: unknown): ImMessageSent => ImMessageSentSchema.parse(m);

const base = {
  appId: 'app-1',
  messageId: 'm-1',
  sentAt: '2026-01-01T00:00:00.000Z',
  sender: { userId: 'alice', nickname: 'Alice' },
  elements: [{ type: 'text', text: 'hi' }],
  mentions: { userIds: ['bob'] },
  offlinePush: { ext: 'x' },
};

function capture() {
  const sent: OutboundRecord[] = [];
  const producer = {
    send: (rs: OutboundRecord[]) => {
      sent.push(...rs);
      return Promise.resolve();
    },
  } as unknown as EventProducer;
  return { sent, producer };
}

describe('IntentWriter', () => {
  it.each([
    ['c2c', { ...base, conversation: { type: 'c2c', id: 'alice' }, recipients: ['bob'] }, ['bob']],
    ['group', { ...base, conversation: { type: 'group', id: 'g-1' } }, ['bob', 'carol', 'dave']],
  ])(
    'writes %s intents that pass push.intent.v1 (they are sent without validating again)',
    async (_kind, message, users) => {
      const { sent, producer } = capture();
      const writer = new IntentWriter(producer, 2);
      const m = parsed(message);
      for (const u of users) {
        await writer.add(m, u, '2026-01-01T00:00:01.000Z', { correlationId: 'c-1' });
      }
      await writer.flush();
      expect(sent.map((r) => (r.value as { userId: string }).userId)).toEqual(users);
      for (const r of sent) {
        expect(r.topic).toBe(TOPICS.pushIntent);
        expect(r.prevalidated).toBe(true);
        expect(PushIntentEventSchema.safeParse(r.value).success).toBe(true);
        // Encoded as a validated record would be: the same bytes.
        const checked = encodeOutbound({ ...r, prevalidated: false });
        expect(encodeOutbound(r).message.value).toBe(checked.message.value);
      }
    },
  );
});
