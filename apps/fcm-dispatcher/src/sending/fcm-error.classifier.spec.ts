import { classifyFcmError } from './fcm-error.classifier';

const hints = { quotaMinDelayMs: 60_000 };
const classify = (code: string, message = 'x', h: { retryAfterMs?: number } = {}) =>
  classifyFcmError({ code, message }, { ...hints, ...h });

describe('classifyFcmError', () => {
  it('an unregistered token is invalidated as unregistered', () => {
    const c = classify('messaging/registration-token-not-registered');
    expect(c.result).toMatchObject({
      kind: 'invalid_token',
      code: 'UNREGISTERED',
      invalidation: { reason: 'unregistered' },
    });
  });

  it('INVALID_ARGUMENT about the token invalidates it; about the payload rejects the request', () => {
    expect(
      classify(
        'messaging/invalid-argument',
        'The registration token is not a valid FCM registration token',
      ).result,
    ).toMatchObject({ kind: 'invalid_token', invalidation: { reason: 'invalid_argument' } });
    expect(classify('messaging/invalid-registration-token').result.kind).toBe('invalid_token');
    const payload = classify(
      'messaging/invalid-argument',
      'Invalid JSON payload received. Unknown name "foo"',
    );
    expect(payload.result).toMatchObject({ kind: 'rejected', code: 'INVALID_ARGUMENT' });
    expect(payload.result.kind === 'rejected' && payload.result.message).toContain('Unknown name');
    expect(classify('messaging/payload-size-limit-exceeded').result.kind).toBe('rejected');
    expect(classify('messaging/invalid-payload').result.kind).toBe('rejected');
  });

  it('a sender mismatch is rejected with an alarm and touches no token', () => {
    const c = classify('messaging/mismatched-credential');
    expect(c.result).toMatchObject({ kind: 'rejected', code: 'SENDER_ID_MISMATCH' });
    expect(c.authAlarm).toBe('mismatched_credential');
  });

  it('quota errors retry no sooner than the floor, and carry Retry-After', () => {
    const c = classify('messaging/message-rate-exceeded', 'q', { retryAfterMs: 120_000 });
    expect(c.result).toMatchObject({
      kind: 'retry',
      code: 'MESSAGE_RATE_EXCEEDED',
      minDelayMs: 60_000,
      retryAfterMs: 120_000,
    });
    expect(classify('messaging/device-message-rate-exceeded').result).toMatchObject({
      kind: 'retry',
      minDelayMs: 60_000,
    });
  });

  it('unavailable, internal and unknown answers retry without a floor', () => {
    for (const code of ['server-unavailable', 'internal-error', 'unknown-error']) {
      const c = classify(`messaging/${code}`);
      expect(c.result.kind).toBe('retry');
      expect(c.result.kind === 'retry' && c.result.minDelayMs).toBeUndefined();
      expect(c.authAlarm).toBeUndefined();
    }
  });

  it('third-party auth errors and failed token requests retry with an alarm', () => {
    expect(classify('messaging/third-party-auth-error')).toMatchObject({
      result: { kind: 'retry' },
      authAlarm: 'third_party_auth',
    });
    expect(classify('app/invalid-credential')).toMatchObject({
      result: { kind: 'retry' },
      authAlarm: 'credential',
    });
    expect(classify('app/network-timeout')).toMatchObject({ result: { kind: 'retry' } });
    expect(classify('app/network-timeout').authAlarm).toBeUndefined();
  });
});
