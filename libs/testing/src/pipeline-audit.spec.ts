import { reconcile, type AuditInput } from './pipeline-audit.reconcile';
import type { AuditRecord } from './pipeline-audit.reader';

const T0 = Date.parse('2026-01-01T00:00:00Z');
let offset = 0;

function rec(topic: string, value: unknown, at = T0, partition = 0): AuditRecord {
  return {
    topic,
    partition,
    offset: String(offset++),
    timestamp: at,
    key: null,
    value:
      value === null
        ? null
        : Buffer.isBuffer(value)
          ? value
          : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
  };
}

const message = (id: string, to: string[] | null, group?: string) => ({
  appId: 'a',
  messageId: id,
  sentAt: new Date(T0).toISOString(),
  conversation: group ? { type: 'group', id: group } : { type: 'c2c', id: 'alice' },
  sender: { userId: 'alice' },
  recipients: to,
  elements: [{ type: 'text', text: 'hi' }],
});

const intent = (id: string, userId: string) => ({
  appId: 'a',
  userId,
  message: { ...message(id, [userId]) },
  fanoutAt: new Date(T0).toISOString(),
});

const request = (id: string, userId: string, jobId: string) => ({
  jobId,
  appId: 'a',
  userId,
  deviceId: 'd1',
  messageId: id,
  token: 'f'.repeat(64),
  createdAt: new Date(T0).toISOString(),
  expiresAt: new Date(T0 + 3600000).toISOString(),
  attempt: 0,
  topic: 'com.example',
  environment: 'production',
  pushType: 'alert',
  priority: 10,
  payload: { aps: {} },
});

const outcome = (id: string, userId: string, jobId: string, status: string, dispatcher = true) => ({
  jobId,
  messageId: id,
  appId: 'a',
  userId,
  deviceId: 'd1',
  provider: 'apns',
  status,
  code: null,
  reason: null,
  attempts: dispatcher ? 1 : 0,
  latencyMs: dispatcher ? 12 : null,
  at: new Date(T0).toISOString(),
});

const empty = (): AuditInput => ({
  messages: [],
  groupMembers: [],
  intents: [],
  requests: [],
  retries: [],
  outcomes: [],
  deadLetters: [],
});

const NOW = T0 + 600000;

describe('pipeline audit reconciliation', () => {
  it('a message followed to its final outcome is clean', () => {
    const i = empty();
    i.messages.push(rec('im.message.sent.v1', message('m1', ['bob'])));
    i.intents.push(rec('push.intent.v1', intent('m1', 'bob')));
    i.requests.push(rec('push.apns.request.v1', request('m1', 'bob', 'j1')));
    i.outcomes.push(rec('push.outcome.v1', outcome('m1', 'bob', 'j1', 'delivered')));
    const r = reconcile(i, { now: NOW });
    expect(r.lost).toBe(0);
    expect(r.counts).toMatchObject({
      messages: 1,
      expectedIntents: 1,
      intents: 1,
      requests: 1,
      finalOutcomes: { delivered: 1 },
      routingDuplicateRequests: 0,
      providerDuplicates: 0,
    });
  });

  it('finds a missing intent, an undecided intent and a request without outcome', () => {
    const i = empty();
    i.messages.push(rec('im.message.sent.v1', message('m1', ['bob'])));
    i.messages.push(rec('im.message.sent.v1', message('m2', ['carol'])));
    i.messages.push(rec('im.message.sent.v1', message('m3', ['dave'])));
    i.intents.push(rec('push.intent.v1', intent('m2', 'carol')));
    i.intents.push(rec('push.intent.v1', intent('m3', 'dave')));
    i.requests.push(rec('push.apns.request.v1', request('m3', 'dave', 'j3')));
    const r = reconcile(i, { now: NOW });
    expect(r.counts.missingIntents).toBe(1);
    expect(r.counts.undecidedIntents).toBe(1);
    expect(r.counts.requestsWithoutOutcome).toBe(1);
    expect(r.lost).toBe(3);
    expect(r.samples.missingIntents[0]).toMatchObject({ messageId: 'm1', userId: 'bob' });
  });

  it('counts the same as pending while within the grace time', () => {
    const i = empty();
    i.messages.push(rec('im.message.sent.v1', message('m1', ['bob']), NOW - 1000));
    const r = reconcile(i, { now: NOW, graceMs: 30000 });
    expect(r.lost).toBe(0);
    expect(r.counts.pending).toBe(1);
  });

  it('takes group recipients from the membership as of the message, without the sender', () => {
    const i = empty();
    const members = (m: string[]) => ({ appId: 'a', groupId: 'g', members: m });
    i.groupMembers.push({
      ...rec('im.group-members.v1', members(['alice', 'bob'])),
      key: 'a:group:g',
    });
    i.groupMembers.push({
      ...rec('im.group-members.v1', members(['alice', 'bob', 'carol']), T0 + 10),
      key: 'a:group:g',
    });
    i.messages.push(rec('im.message.sent.v1', message('m1', null, 'g'), T0 + 5));
    i.intents.push(rec('push.intent.v1', intent('m1', 'bob')));
    i.outcomes.push(rec('push.outcome.v1', outcome('m1', 'bob', 'j1', 'suppressed', false)));
    const r = reconcile(i, { now: NOW });
    expect(r.counts.expectedIntents).toBe(1);
    expect(r.lost).toBe(0);
    expect(r.counts.routingOutcomes).toBe(1);
  });

  it('flags a job written twice by routing, and counts provider duplicates apart', () => {
    const i = empty();
    i.messages.push(rec('im.message.sent.v1', message('m1', ['bob'])));
    i.intents.push(rec('push.intent.v1', intent('m1', 'bob')));
    i.intents.push(rec('push.intent.v1', intent('m1', 'bob')));
    i.requests.push(rec('push.apns.request.v1', request('m1', 'bob', 'j1')));
    i.requests.push(rec('push.apns.request.v1', request('m1', 'bob', 'j1')));
    i.outcomes.push(rec('push.outcome.v1', outcome('m1', 'bob', 'j1', 'delivered')));
    i.outcomes.push(rec('push.outcome.v1', outcome('m1', 'bob', 'j1', 'delivered')));
    i.outcomes.push(
      rec('push.outcome.v1', {
        ...outcome('m1', 'bob', 'j1', 'delivered'),
        at: new Date(T0 + 5).toISOString(),
      }),
    );
    const r = reconcile(i, { now: NOW });
    expect(r.counts.intentRepeats).toBe(1);
    expect(r.counts.routingDuplicateRequests).toBe(1);
    expect(r.counts.routingDuplicatesAfterRepeatedIntent).toBe(1);
    expect(r.counts.providerDuplicates).toBe(1);
    expect(r.counts.providerDuplicateOutcomes).toBe(2);
    expect(r.counts.outcomeCopies).toBe(1);
    expect(r.lost).toBe(0);
  });

  it('needs a dead letter for every invalid input, and accepts dead letters as decisions', () => {
    const i = empty();
    const bad = rec('im.message.sent.v1', '{not json');
    const worse = rec('im.message.sent.v1', Buffer.from([0xff, 0xfe]));
    i.messages.push(bad, worse);
    i.messages.push(rec('im.message.sent.v1', message('m1', ['bob'])));
    i.intents.push(rec('push.intent.v1', intent('m1', 'bob')));
    const letter = (source: AuditRecord, value: string | null) => ({
      source: {
        topic: source.topic,
        partition: source.partition,
        offset: source.offset,
        key: null,
      },
      error: { code: 'X', message: 'x' },
      value,
      valueEncoding: 'utf8',
      headers: {},
      at: new Date(T0).toISOString(),
    });
    i.deadLetters.push(rec('push.dead-letter.v1', letter(bad, '{not json')));
    const intentRec = rec('push.intent.v1', intent('m1', 'bob'));
    i.deadLetters.push(
      rec('push.dead-letter.v1', letter(intentRec, JSON.stringify(intent('m1', 'bob')))),
    );
    const r = reconcile(i, { now: NOW });
    expect(r.counts.invalidInputs).toBe(2);
    expect(r.counts.invalidInputsDeadLettered).toBe(1);
    expect(r.counts.undecidedIntents).toBe(0);
    expect(r.lost).toBe(1);
  });

  it('audits only the messages of a prefix', () => {
    const i = empty();
    i.messages.push(rec('im.message.sent.v1', message('x-1', ['bob'])));
    i.messages.push(rec('im.message.sent.v1', message('y-1', ['bob'])));
    const r = reconcile(i, { now: NOW, messageIdPrefix: 'x-' });
    expect(r.counts.messages).toBe(1);
    expect(r.lost).toBe(1);
  });
});
