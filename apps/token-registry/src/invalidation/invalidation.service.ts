import { Injectable, Logger } from '@nestjs/common';
import { ServiceConfig } from '@app/config';
import type { TokenInvalidated } from '@app/contracts';
import { PoisonRecordException } from '@app/kafka';
import { redactToken } from '@app/observability';
import { DataSource } from 'typeorm';
import { inTransaction, Rollback, type Tx } from '../database/transaction.util';
import { DeviceEntity } from '../devices/device.entity';
import { DevicesRepository, type DeviceKey } from '../devices/devices.repository';
import { OutboxWriter } from '../outbox/outbox.writer';
import { UsersRepository } from '../users/users.repository';
import { invalidationSettings } from './invalidation.settings';

/**
 * What an invalidation did:
 * - `deleted`, `environment_updated`: applied to the device it names;
 * - `stale`: the device holds the token but registered it again at or after the provider's
 *   timestamp (or the environment is already the one named);
 * - `token_changed`: the device holds another token now (the app registered a new one);
 * - `held_elsewhere`: another device, of this user or another, holds the token (it moved, or the
 *   record names the wrong device or user);
 * - `not_found`: neither the device nor the token is registered.
 * Only the first two change anything.
 */
export type InvalidationResult =
  'deleted' | 'environment_updated' | 'stale' | 'token_changed' | 'held_elsewhere' | 'not_found';

/** The registered device an invalidation is about, as the compare-and-set needs it. */
interface Target extends DeviceKey {
  provider: string;
  token: string;
}

/** The device that holds the token instead, when it is not the one named. */
interface Holder {
  userId: string;
  deviceId: string;
}

/**
 * Applies a provider's verdict on a token to the device it names, and only while it is still
 * about that device: the app, user, device, provider and token all match the registered device,
 * and the device registered the token before the provider's timestamp (or, without one, before
 * the dispatcher saw the error). A token registered again since then stays (that registration is
 * newer evidence than the provider's answer to an older send); a token that moved to another
 * device or user stays with it; a record naming a device that holds another token changes
 * nothing. A timestamp further in the future than the allowed clock skew is refused.
 */
@Injectable()
export class InvalidationService {
  private readonly logger = new Logger(InvalidationService.name);
  private readonly maxSkewMs: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UsersRepository,
    private readonly devices: DevicesRepository,
    private readonly outbox: OutboxWriter,
    config: ServiceConfig,
  ) {
    this.maxSkewMs =
      invalidationSettings(config.env).REGISTRY_INVALIDATION_MAX_CLOCK_SKEW_SECONDS * 1000;
  }

  /**
   * Throws `PoisonRecordException` for a record that can never apply (the runner's consumer
   * dead-letters it): `ENVIRONMENT_MISMATCH_NOT_APNS`, `PROVIDER_TIMESTAMP_IN_FUTURE`,
   * `EVENT_IN_FUTURE`.
   */
  async apply(ev: TokenInvalidated, now = Date.now()): Promise<InvalidationResult> {
    const mismatch = ev.reason === 'environment_mismatch';
    if (mismatch && ev.provider !== 'apns') {
      throw new PoisonRecordException(
        'ENVIRONMENT_MISMATCH_NOT_APNS',
        'environment_mismatch applies to APNs tokens only',
      );
    }
    const before = new Date(ev.providerTimestamp ?? ev.at);
    this.checkNotInFuture(ev, before.getTime(), now);
    const target = targetOf(ev);
    let holder: Holder | undefined;
    const result = await inTransaction(this.dataSource, async (tx) => {
      const device = await tx.manager.findOneBy(DeviceEntity, {
        appId: target.appId,
        userId: target.userId,
        deviceId: target.deviceId,
      });
      if (!device || device.provider !== target.provider || device.token !== target.token) {
        const other = await this.devices.holderOf(tx, ev.appId, ev.provider, target.token);
        holder = other ? { userId: other.userId, deviceId: other.deviceId } : undefined;
        return other ? 'held_elsewhere' : device ? 'token_changed' : 'not_found';
      }
      if (device.updatedAt >= before) return 'stale' as const;
      const user = await this.users.lockAndBump(tx, target.appId, target.userId);
      const changed = mismatch
        ? await setEnvironmentIfStale(
            tx,
            target,
            before,
            ev.environment ?? (device.environment === 'sandbox' ? 'production' : 'sandbox'),
          )
        : await deleteIfStale(tx, target, before);
      // Re-registered or moved between the read and the lock: the newer state wins.
      if (!changed) throw new Rollback('stale' as const);
      await this.outbox.append(
        tx,
        user,
        await this.devices.ofUser(tx, target.appId, target.userId),
      );
      return mismatch ? ('environment_updated' as const) : ('deleted' as const);
    });
    if (result === 'deleted' || result === 'environment_updated') this.outbox.committed();
    this.report(ev, result, holder);
    return result;
  }

  private report(ev: TokenInvalidated, result: InvalidationResult, holder?: Holder): void {
    const entry = {
      msg:
        result === 'deleted' || result === 'environment_updated'
          ? 'token invalidation applied'
          : 'token invalidation changed nothing',
      appId: ev.appId,
      userId: ev.userId,
      deviceId: ev.deviceId,
      token: redactToken(ev.token),
      reason: ev.reason,
      result,
      ...(holder ? { heldBy: holder } : {}),
    };
    // A record naming a device that does not hold the token is worth a look (a dispatcher bug,
    // or a forged record); the other outcomes are the normal races.
    if (result === 'held_elsewhere') this.logger.warn(entry);
    else this.logger.log(entry);
  }

  private checkNotInFuture(ev: TokenInvalidated, when: number, now: number): void {
    if (when <= now + this.maxSkewMs) return;
    const field = ev.providerTimestamp ? 'providerTimestamp' : 'at';
    throw new PoisonRecordException(
      ev.providerTimestamp ? 'PROVIDER_TIMESTAMP_IN_FUTURE' : 'EVENT_IN_FUTURE',
      `${field} ${ev.providerTimestamp ?? ev.at} is more than ${this.maxSkewMs / 1000} s ahead of ` +
        `this server's clock (REGISTRY_INVALIDATION_MAX_CLOCK_SKEW_SECONDS)`,
    );
  }
}

/** APNs tokens are registered in lower case; FCM tokens as they are. */
function targetOf(ev: TokenInvalidated): Target {
  return {
    appId: ev.appId,
    userId: ev.userId,
    deviceId: ev.deviceId,
    provider: ev.provider,
    token: ev.provider === 'apns' ? ev.token.toLowerCase() : ev.token,
  };
}

/**
 * Compare-and-set delete of the device the invalidation names: only while it still holds the
 * token and registered it before `before`. Returns whether the row went.
 */
async function deleteIfStale(tx: Tx, t: Target, before: Date): Promise<boolean> {
  const { affected } = await tx.query(
    `DELETE FROM registry_devices WHERE app_id = $1 AND user_id = $2 AND device_id = $3
       AND provider = $4 AND token = $5 AND updated_at < $6`,
    [t.appId, t.userId, t.deviceId, t.provider, t.token, before],
  );
  return affected > 0;
}

/** Compare-and-set environment fix, under the same conditions as `deleteIfStale`. */
async function setEnvironmentIfStale(
  tx: Tx,
  t: Target,
  before: Date,
  environment: string,
): Promise<boolean> {
  const { affected } = await tx.query(
    `UPDATE registry_devices SET environment = $7 WHERE app_id = $1 AND user_id = $2
       AND device_id = $3 AND provider = $4 AND token = $5 AND updated_at < $6
       AND environment IS DISTINCT FROM $7`,
    [t.appId, t.userId, t.deviceId, t.provider, t.token, before, environment],
  );
  return affected > 0;
}
