import type { FcmRequest } from '@app/contracts';
import { durationToMs, toAdminMessage } from './fcm-message.util';

const req = (message: Record<string, unknown>, expiresInMs = 3_600_000): FcmRequest => ({
  jobId: 'j',
  appId: 'a',
  userId: 'u',
  deviceId: 'd',
  messageId: 'm',
  token: 'tok-1234567890',
  createdAt: new Date(0).toISOString(),
  expiresAt: new Date(1_000_000 + expiresInMs).toISOString(),
  attempt: 0,
  message,
});

describe('toAdminMessage', () => {
  it('reads Google durations', () => {
    expect(durationToMs('3600s')).toBe(3_600_000);
    expect(durationToMs('1.5s')).toBe(1500);
    expect(durationToMs('soon')).toBeUndefined();
  });

  it('sets the token and converts android.ttl to ms, capped at the time left', () => {
    const m = toAdminMessage(
      req({ data: { a: '1' }, android: { ttl: '86400s', priority: 'high' } }),
      1_000_000,
    );
    expect(m).toMatchObject({
      token: 'tok-1234567890',
      data: { a: '1' },
      android: { ttl: 3_600_000, priority: 'high' },
    });
    const short = toAdminMessage(req({ android: { ttl: '60s' } }), 1_000_000);
    expect(short.android?.ttl).toBe(60_000);
  });

  it('leaves the request as it was', () => {
    const r = req({ android: { ttl: '60s' }, data: { a: '1' } });
    toAdminMessage(r, 1_000_000);
    expect(r.message).toEqual({ android: { ttl: '60s' }, data: { a: '1' } });
  });

  it('gives a ttl when none was set, and leaves an unreadable one for firebase-admin to reject', () => {
    expect(toAdminMessage(req({}, 10_500), 1_000_000).android?.ttl).toBe(10_000);
    expect(toAdminMessage(req({ android: { ttl: 'soon' } }), 1_000_000).android?.ttl).toBe('soon');
  });

  it('never sends to a topic or condition the request smuggled in', () => {
    const m = toAdminMessage(
      req({ topic: 'news', condition: "'a' in topics" }),
      1_000_000,
    ) as unknown as Record<string, unknown>;
    expect(m.topic).toBeUndefined();
    expect(m.condition).toBeUndefined();
  });
});

describe('toAdminMessage for web and desktop devices', () => {
  it('caps webpush.headers.TTL at the time left and adds no android block', () => {
    const m = toAdminMessage(
      req({ webpush: { headers: { TTL: '86400', Urgency: 'high' } }, data: { a: '1' } }, 90_500),
      1_000_000,
    );
    expect(m).toEqual({
      token: 'tok-1234567890',
      webpush: { headers: { TTL: '90', Urgency: 'high' } },
      data: { a: '1' },
    });
  });

  it.each([
    ['a shorter TTL is kept', { TTL: '60' }, '60'],
    ['no TTL: the time left', {}, '90'],
    ['an unreadable TTL is left for firebase-admin / FCM to reject', { TTL: 'soon' }, 'soon'],
  ])('%s', (_n, headers, ttl) => {
    const m = toAdminMessage(req({ webpush: { headers } }, 90_500), 1_000_000);
    expect(m.webpush?.headers?.TTL).toBe(ttl);
  });

  it('leaves the request as it was', () => {
    const r = req({ webpush: { headers: { TTL: '86400' } } });
    toAdminMessage(r, 1_000_000);
    expect(r.message).toEqual({ webpush: { headers: { TTL: '86400' } } });
  });
});
