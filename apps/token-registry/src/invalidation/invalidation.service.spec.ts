import { Logger } from '@nestjs/common';
import type { ServiceConfig } from '@app/config';
import type { TokenInvalidated } from '@app/contracts';
import { PoisonRecordException } from '@app/kafka';
import type { DataSource } from 'typeorm';
import type { DevicesRepository } from '../devices/devices.repository';
import type { OutboxWriter } from '../outbox/outbox.writer';
import type { UsersRepository } from '../users/users.repository';
import { InvalidationService } from './invalidation.service';
import { InvalidationEnvSchema } from './invalidation.settings';

/** Reaching the database means the record passed every check made before it. */
class ReachedDatabase extends Error {}

const service = (env: Record<string, unknown> = {}) =>
  new InvalidationService(
    {
      createQueryRunner: () => {
        throw new ReachedDatabase();
      },
    } as unknown as DataSource,
    {} as UsersRepository,
    {} as DevicesRepository,
    {} as OutboxWriter,
    { env } as unknown as ServiceConfig,
  );

const NOW = Date.parse('2026-11-29T10:00:00.000Z');
const ev = (extra: Partial<TokenInvalidated> = {}): TokenInvalidated => ({
  appId: 'demo',
  userId: 'bob',
  deviceId: 'd1',
  provider: 'apns',
  token: 'ab'.repeat(32),
  reason: 'unregistered',
  at: new Date(NOW).toISOString(),
  ...extra,
});
const at = (ms: number) => new Date(NOW + ms).toISOString();

async function refusal(p: Promise<unknown>): Promise<string> {
  const e = await p.catch((x: Error) => x);
  if (e instanceof PoisonRecordException) return e.code;
  if (e instanceof ReachedDatabase) return 'applied';
  throw e;
}

describe('invalidation checks before the database', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('refuses a providerTimestamp beyond the allowance (default 300 s), naming the field', async () => {
    const svc = service();
    expect(await refusal(svc.apply(ev({ providerTimestamp: at(300_000) }), NOW))).toBe('applied');
    expect(await refusal(svc.apply(ev({ providerTimestamp: at(300_001) }), NOW))).toBe(
      'PROVIDER_TIMESTAMP_IN_FUTURE',
    );
    const e = (await svc
      .apply(ev({ providerTimestamp: at(3600_000) }), NOW)
      .catch((x: Error) => x)) as Error;
    expect(e.message).toMatch(/^providerTimestamp .* more than 300 s ahead/);
    expect(e.message).toContain('REGISTRY_INVALIDATION_MAX_CLOCK_SKEW_SECONDS');
  });

  it('without a providerTimestamp, checks `at` (the time it is compared with)', async () => {
    const svc = service();
    expect(await refusal(svc.apply(ev({ at: at(301_000) }), NOW))).toBe('EVENT_IN_FUTURE');
    // A sane providerTimestamp is what counts; `at` is not used then.
    expect(
      await refusal(svc.apply(ev({ at: at(301_000), providerTimestamp: at(-1000) }), NOW)),
    ).toBe('applied');
  });

  it('takes the allowance from the setting', async () => {
    const strict = service({ REGISTRY_INVALIDATION_MAX_CLOCK_SKEW_SECONDS: 0 });
    expect(await refusal(strict.apply(ev({ providerTimestamp: at(1) }), NOW))).toBe(
      'PROVIDER_TIMESTAMP_IN_FUTURE',
    );
    expect(await refusal(strict.apply(ev({ providerTimestamp: at(0) }), NOW))).toBe('applied');
  });

  it('refuses environment_mismatch for an FCM token', async () => {
    expect(
      await refusal(service().apply(ev({ provider: 'fcm', reason: 'environment_mismatch' }), NOW)),
    ).toBe('ENVIRONMENT_MISMATCH_NOT_APNS');
  });

  it('validates the setting as the registry schema does (0–86400 s, default 300)', () => {
    expect(InvalidationEnvSchema.parse({})).toEqual({
      REGISTRY_INVALIDATION_MAX_CLOCK_SKEW_SECONDS: 300,
    });
    expect(
      InvalidationEnvSchema.parse({ REGISTRY_INVALIDATION_MAX_CLOCK_SKEW_SECONDS: '60' }),
    ).toEqual({ REGISTRY_INVALIDATION_MAX_CLOCK_SKEW_SECONDS: 60 });
    for (const bad of ['-1', '86401', 'soon']) {
      expect(
        InvalidationEnvSchema.safeParse({ REGISTRY_INVALIDATION_MAX_CLOCK_SKEW_SECONDS: bad })
          .success,
      ).toBe(false);
    }
  });
});
