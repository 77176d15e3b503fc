import { ConfigException, loadEnv } from '@app/config';
import { PresenceEnvSchema } from './presence-env.schema';

const base = { KAFKA_BROKERS: '127.0.0.1:9092', PUSH_APPS_FILE: '/dev/null' };

describe('presence settings', () => {
  it("defaults to Tencent's figures", () => {
    const env = loadEnv(PresenceEnvSchema, base);
    expect(env).toMatchObject({
      PRESENCE_HEARTBEAT_INTERVAL_SECONDS: 120,
      PRESENCE_HEARTBEAT_TIMEOUT_SECONDS: 400,
      PRESENCE_CONSUMER_GROUP: 'presence',
      PRESENCE_FORGET_AFTER_DAYS: 0,
      PRESENCE_MAX_DEVICES_PER_USER: 20,
    });
  });

  it('bounds the device cap (a snapshot of 1,000 devices still fits 1 MB)', () => {
    expect(
      loadEnv(PresenceEnvSchema, { ...base, PRESENCE_MAX_DEVICES_PER_USER: '1000' })
        .PRESENCE_MAX_DEVICES_PER_USER,
    ).toBe(1000);
    for (const bad of ['0', '1001', 'many']) {
      expect(() =>
        loadEnv(PresenceEnvSchema, { ...base, PRESENCE_MAX_DEVICES_PER_USER: bad }),
      ).toThrow(/PRESENCE_MAX_DEVICES_PER_USER/);
    }
  });

  it('refuses a heartbeat timeout not longer than the interval, naming the setting', () => {
    const load = () =>
      loadEnv(PresenceEnvSchema, {
        ...base,
        PRESENCE_HEARTBEAT_INTERVAL_SECONDS: '120',
        PRESENCE_HEARTBEAT_TIMEOUT_SECONDS: '60',
      });
    expect(load).toThrow(ConfigException);
    expect(load).toThrow(/PRESENCE_HEARTBEAT_TIMEOUT_SECONDS: must be longer/);
  });

  it('refuses a malformed number', () => {
    expect(() =>
      loadEnv(PresenceEnvSchema, { ...base, PRESENCE_SWEEP_INTERVAL_MS: 'soon' }),
    ).toThrow(/PRESENCE_SWEEP_INTERVAL_MS/);
  });
});
