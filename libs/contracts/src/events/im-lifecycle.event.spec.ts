import { BadgeStateSchema } from './badge-state.event';
import { ImConversationReadSchema, ImMessageRecalledSchema } from './im-lifecycle.event';
import { isRecallIntent, PushIntentEventSchema } from './push.event';

const recalledAt = '2030-01-01T00:00:00.000Z';

describe('lifecycle contracts', () => {
  it.each([
    [{ conversation: { type: 'c2c', id: 'alice' }, recipients: ['bob'] }, true],
    [{ conversation: { type: 'c2c', id: 'alice' } }, false], // c2c names the peer
    [{ conversation: { type: 'group', id: 'g' } }, true], // members from the membership
    [{ conversation: { type: 'group', id: 'g' }, messageId: 'a\u0000' }, false],
    [{ conversation: { type: 'group', id: 'g:1' } }, false],
  ])('im.message.recalled.v1 %j valid: %s', (over, ok) => {
    const v = { appId: 'demo', messageId: 'm-1', recalledAt, ...over };
    expect(ImMessageRecalledSchema.safeParse(v).success).toBe(ok);
  });

  it('im.conversation.read.v1 takes an optional device', () => {
    const v = {
      appId: 'demo',
      userId: 'bob',
      conversation: { type: 'c2c', id: 'alice' },
      readAt: recalledAt,
    };
    expect(ImConversationReadSchema.safeParse(v).success).toBe(true);
    expect(ImConversationReadSchema.safeParse({ ...v, deviceId: 'p 1' }).success).toBe(false);
  });

  it('push.intent.v1 still reads message intents and now recall intents', () => {
    const message = {
      appId: 'demo',
      messageId: 'm-1',
      sentAt: recalledAt,
      conversation: { type: 'c2c', id: 'alice' },
      sender: { userId: 'alice' },
      recipients: ['bob'],
      elements: [{ type: 'text', text: 'hi' }],
    };
    const old = PushIntentEventSchema.parse({
      appId: 'demo',
      userId: 'bob',
      message,
      fanoutAt: recalledAt,
    });
    expect(isRecallIntent(old)).toBe(false);
    const recall = PushIntentEventSchema.parse({
      kind: 'recall',
      appId: 'demo',
      userId: 'bob',
      recall: { messageId: 'm-1', conversation: { type: 'c2c', id: 'alice' }, recalledAt },
      fanoutAt: recalledAt,
    });
    expect(isRecallIntent(recall)).toBe(true);
  });

  it('routing.badge-state.v1 bounds the push memory', () => {
    const base = { appId: 'demo', userId: 'bob', updatedAt: recalledAt, devices: {} };
    const entry = { d: 'abc', t: 1, c: 'c2c:alice', v: { 'iphone-1': 1 } };
    expect(BadgeStateSchema.safeParse({ ...base, pushes: [entry] }).success).toBe(true);
    expect(BadgeStateSchema.safeParse({ ...base, pushes: Array(257).fill(entry) }).success).toBe(
      false,
    );
    const big = { ...entry, v: { 'iphone-1': 1000 } };
    expect(BadgeStateSchema.safeParse({ ...base, pushes: [big] }).success).toBe(false);
  });
});
