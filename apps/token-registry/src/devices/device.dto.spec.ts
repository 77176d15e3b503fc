import { RegisterDeviceBodySchema } from './device.dto';

const hex = (n: number) => 'ab'.repeat(n / 2);
const fields = (body: unknown) => {
  const r = RegisterDeviceBodySchema.safeParse(body);
  return r.success ? [] : r.error.issues.map((i) => i.path.join('.') || '(body)');
};

describe('RegisterDeviceBodySchema', () => {
  it('derives the provider and APNs defaults, and lower-cases APNs tokens', () => {
    const token = 'AB'.repeat(32);
    expect(RegisterDeviceBodySchema.parse({ platform: 'ios', token })).toEqual({
      platform: 'ios',
      provider: 'apns',
      token: token.toLowerCase(),
      topic: null,
      environment: 'production',
      pushType: 'alert',
      locale: null,
    });
  });

  it('keeps FCM tokens as given and clears APNs-only fields', () => {
    expect(RegisterDeviceBodySchema.parse({ platform: 'web', token: 'Ab:c-D_' })).toMatchObject({
      provider: 'fcm',
      token: 'Ab:c-D_',
      environment: null,
      pushType: null,
    });
  });

  it.each([
    [{ platform: 'ios', token: hex(64) }, []],
    [{ platform: 'ios', token: hex(200) }, []],
    [{ platform: 'ios', token: hex(62) }, ['token']],
    [{ platform: 'ios', token: hex(202) }, ['token']],
    [{ platform: 'ios', token: `${hex(62)}a` }, ['token']],
    [{ platform: 'ios', token: 'g'.repeat(64) }, ['token']],
    [{ platform: 'desktop', provider: 'apns', token: 'x' }, ['provider']],
    [{ platform: 'android', token: 'a b' }, ['token']],
    [{ platform: 'android', token: 'x', pushType: 'alert' }, ['pushType']],
    [{ platform: 'ios', token: hex(64), locale: 'pt-BR' }, []],
    [{ platform: 'ios', token: hex(64), locale: 'pt BR' }, ['locale']],
    [{ platform: 'ios', token: hex(64), extra: 1 }, ['(body)']],
    // NUL was a 500 from PostgreSQL; 1,024 multi-byte characters could outgrow the token index.
    [{ platform: 'android', token: 'a\u0000b' }, ['token']],
    [{ platform: 'android', token: 'a\u0007b' }, ['token']],
    [{ platform: 'android', token: '€'.repeat(1024) }, ['token']],
    [{ platform: 'android', token: 'x'.repeat(1024) }, []],
    [{ platform: 'android', token: 'x'.repeat(1025) }, ['token']],
    [{ platform: 'ios', token: hex(64), topic: 'com.example\u0000' }, ['topic']],
  ])('%j → errors on %j', (body, expected) => {
    expect(fields(body)).toEqual(expected);
  });
});
