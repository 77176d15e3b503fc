import { classifyApnsAnswer } from './apns-response.classifier';
import { apnsIdFor } from './apns-id.util';

describe('classifyApnsAnswer', () => {
  it('maps Apple status codes to what the dispatcher does', () => {
    expect(classifyApnsAnswer({ sent: true })).toEqual({
      kind: 'result',
      result: { kind: 'delivered', code: '200' },
    });
    expect(
      classifyApnsAnswer({
        sent: false,
        status: 410,
        reason: 'Unregistered',
        timestamp: 1700000000000,
      }),
    ).toEqual({
      kind: 'result',
      result: {
        kind: 'invalid_token',
        code: 'Unregistered',
        message: 'APNs 410 Unregistered',
        invalidation: { reason: 'unregistered', providerTimestamp: new Date(1700000000000) },
      },
    });
    expect(classifyApnsAnswer({ sent: false, status: 410, reason: 'ExpiredToken' })).toMatchObject({
      result: { invalidation: { reason: 'expired_token', providerTimestamp: undefined } },
    });
    expect(classifyApnsAnswer({ sent: false, status: 400, reason: 'BadDeviceToken' }).kind).toBe(
      'bad_device_token',
    );
    expect(
      classifyApnsAnswer({ sent: false, status: 400, reason: 'DeviceTokenNotForTopic' }),
    ).toMatchObject({ result: { kind: 'rejected', code: 'DeviceTokenNotForTopic' } });
    expect(
      classifyApnsAnswer({ sent: false, status: 413, reason: 'PayloadTooLarge' }),
    ).toMatchObject({ result: { kind: 'rejected' } });
    expect(
      classifyApnsAnswer({ sent: false, status: 403, reason: 'ExpiredProviderToken' }).kind,
    ).toBe('expired_provider_token');
    expect(
      classifyApnsAnswer({ sent: false, status: 403, reason: 'InvalidProviderToken' }),
    ).toEqual({ kind: 'auth', reason: 'InvalidProviderToken', retryAfterMs: undefined });
    expect(
      classifyApnsAnswer({
        sent: false,
        status: 429,
        reason: 'TooManyRequests',
        retryAfterMs: 3000,
      }),
    ).toMatchObject({ result: { kind: 'retry', retryAfterMs: 3000 } });
    expect(
      classifyApnsAnswer({
        sent: false,
        status: 500,
        reason: 'Error 500, stream ended unexpectedly',
      }),
    ).toMatchObject({ result: { kind: 'retry', code: 'HTTP500' } });
    expect(
      classifyApnsAnswer({ sent: false, status: 503, reason: 'ServiceUnavailable' }),
    ).toMatchObject({ result: { kind: 'retry' } });
    expect(classifyApnsAnswer({ sent: false, error: 'apn write timeout' })).toMatchObject({
      result: { kind: 'retry', code: 'TransportError' },
    });
    expect(classifyApnsAnswer({ sent: false, status: 404, reason: 'BadPath' })).toMatchObject({
      result: { kind: 'failed' },
    });
  });
});

describe('apnsIdFor', () => {
  it('is a stable UUID per jobId', () => {
    const id = apnsIdFor('msg-1:device-1');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(apnsIdFor('msg-1:device-1')).toBe(id);
    expect(apnsIdFor('msg-1:device-2')).not.toBe(id);
  });
});
