import { DEFAULT_PUSH_SETTINGS, type DevicePresence, type RegisteredDevice } from '@app/contracts';
import type { DeviceVerdict, SuppressionRule } from '@app/routing-rules';
import {
  describeDnd,
  describePresence,
  deviceSentence,
  tokenPreview,
  type SentenceFacts,
} from './diagnosis.sentences';

const iphone: RegisteredDevice = {
  deviceId: 'iphone',
  platform: 'ios',
  provider: 'apns',
  token: 'ab'.repeat(32),
  environment: 'sandbox',
  updatedAt: '2026-11-29T09:00:00.000Z',
};
const seen = (over: Partial<DevicePresence> = {}): DevicePresence => ({
  deviceId: 'iphone',
  platform: 'ios',
  status: 'online',
  since: '2026-11-29T09:59:00.000Z',
  lastSeenAt: '2026-11-29T10:00:00.000Z',
  ...over,
});
const quiet = (rule: SuppressionRule): DeviceVerdict => ({ push: false, device: iphone, rule });

function facts(over: Partial<SentenceFacts> = {}): SentenceFacts {
  return {
    verdict: { push: true, device: iphone, presence: undefined },
    presence: undefined,
    status: 'push_online',
    settings: { ...DEFAULT_PUSH_SETTINGS },
    conversation: 'c2c:bob',
    onlineElsewhere: [],
    offlineAfterDays: 7,
    ...over,
  };
}

describe('diagnosis sentences', () => {
  it('says a device would be pushed, with its presence', () => {
    expect(deviceSentence(facts())).toBe(
      'iphone (apns, sandbox): the next message would be pushed (presence unknown (counted as push_online)).',
    );
    const p = seen({ status: 'push_online', app: 'background' });
    expect(deviceSentence(facts({ presence: p }))).toBe(
      'iphone (apns, sandbox): the next message would be pushed (push_online, app in the background, last seen 2026-11-29T10:00:00.000Z).',
    );
  });

  it.each<[SuppressionRule, string]>([
    [
      'not_a_call',
      'the device is registered for VoIP pushes, which carry calls only (offlinePush.apns.pushType voip)',
    ],
    [
      'live_activity_token',
      'the device is a Live Activity push token, which gets its activity updates only',
    ],
  ])('says why a %s device is not reached by a chat message', (rule, why) => {
    expect(deviceSentence(facts({ verdict: quiet(rule) }))).toBe(
      `iphone (apns, sandbox): the next message would not be pushed (${rule}): ${why}.`,
    );
  });

  it('says an online device is reached by the IM connection', () => {
    const p = seen({ app: 'foreground' });
    expect(deviceSentence(facts({ verdict: quiet('online'), presence: p, status: 'online' }))).toBe(
      'iphone (apns, sandbox): the next message would not be pushed (online): the device is online ' +
        '(online, app in the foreground, last seen 2026-11-29T10:00:00.000Z): the IM connection delivers the message.',
    );
  });

  it('tells a stale device from a logged-out one', () => {
    const stale = seen({ status: 'push_online' });
    expect(
      deviceSentence(facts({ verdict: quiet('offline'), presence: stale, status: 'offline' })),
    ).toMatch(
      /offline: not seen for more than 7 days \(offline \(presence says push_online\), last seen/,
    );
    const out = seen({ status: 'offline', offlineReason: 'logged_out' });
    expect(
      deviceSentence(facts({ verdict: quiet('offline'), presence: out, status: 'offline' })),
    ).toMatch(/\(offline\): the device is offline \(offline, logged out, last seen/);
  });

  it('names the muting setting', () => {
    const dnd = {
      startSecondOfDay: 22 * 3600,
      durationSeconds: 8 * 3600,
      timeZone: 'Europe/Paris',
    };
    const settings = { ...DEFAULT_PUSH_SETTINGS, dnd, snoozeUntil: '2026-11-29T12:00:00.000Z' };
    const say = (rule: SuppressionRule) =>
      deviceSentence(facts({ verdict: quiet(rule), settings }));
    expect(say('dnd')).toMatch(
      /\(dnd\): the do-not-disturb window 22:00 for 8 h \(Europe\/Paris\) is on\.$/,
    );
    expect(say('snooze')).toMatch(
      /\(snooze\): notifications are snoozed until 2026-11-29T12:00:00.000Z\.$/,
    );
    expect(say('receive_not_notify')).toMatch(
      /conversation c2c:bob is set to receive without notification/,
    );
    expect(say('receive_except_at')).toMatch(/c2c:bob notifies only when the user is mentioned/);
    expect(say('push_disabled')).toMatch(/turned push off/);
    expect(say('push_flag')).toMatch(/online delivery only/);
  });

  it('names the devices online elsewhere', () => {
    const f = facts({ verdict: quiet('online_elsewhere'), onlineElsewhere: ['macbook'] });
    expect(deviceSentence(f)).toMatch(/another device of the user is online \(macbook\)/);
  });

  it('has one sentence for a user without devices', () => {
    const f = facts({ verdict: { push: false, device: null, rule: 'no_device' } });
    expect(deviceSentence(f)).toBe('Nothing would be pushed: the user has no registered device.');
  });

  it('describes windows and presence', () => {
    expect(describeDnd({ startSecondOfDay: 5400, durationSeconds: 1800, timeZone: 'UTC' })).toBe(
      '01:30 for 30 min (UTC)',
    );
    expect(describePresence(undefined, 'push_online')).toMatch(/unknown/);
  });

  it('previews tokens, never whole', () => {
    expect(tokenPreview('ab'.repeat(32))).toBe('ababab…abab');
    expect(tokenPreview('short-token')).toBe('…(11 chars)');
  });
});
