import { BaseEnvSchema } from './base-env.schema';
import { ConfigException } from './config.exception';
import { loadEnv } from './load-env.util';

describe('loadEnv', () => {
  const ok = { KAFKA_BROKERS: 'a:9092, b:9092', PUSH_APPS_FILE: '/x.yaml' };

  it('parses, trims and applies defaults', () => {
    const env = loadEnv(BaseEnvSchema, ok);
    expect(env.KAFKA_BROKERS).toEqual(['a:9092', 'b:9092']);
    expect(env.KAFKA_PARTITIONS).toBe(12);
    expect(env.KAFKA_SSL).toBe(false);
    expect(env.LOG_LEVEL).toBe('info');
  });

  it('names every missing setting', () => {
    try {
      loadEnv(BaseEnvSchema, {});
      throw new Error('should have failed');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigException);
      expect((e as ConfigException).problems).toEqual([
        'KAFKA_BROKERS is required',
        'PUSH_APPS_FILE is required',
      ]);
    }
  });

  it('names an invalid setting with the reason, and treats an empty value as missing', () => {
    expect(() => loadEnv(BaseEnvSchema, { ...ok, KAFKA_PARTITIONS: 'many' })).toThrow(
      /KAFKA_PARTITIONS: /,
    );
    expect(() => loadEnv(BaseEnvSchema, { ...ok, PUSH_APPS_FILE: '' })).toThrow(
      /PUSH_APPS_FILE is required/,
    );
    expect(() => loadEnv(BaseEnvSchema, { ...ok, KAFKA_SSL: 'yes' })).toThrow(/KAFKA_SSL: /);
  });
});
