import { Injectable, Logger } from '@nestjs/common';
import type { TokenInvalidated } from '@app/contracts';
import { PoisonRecordException } from '@app/kafka';
import { redactToken } from '@app/observability';
import { DataSource } from 'typeorm';
import { inTransaction, Rollback } from '../database/transaction.util';
import { DevicesRepository } from '../devices/devices.repository';
import { OutboxWriter } from '../outbox/outbox.writer';
import { UsersRepository } from '../users/users.repository';

export type InvalidationResult = 'deleted' | 'environment_updated' | 'stale' | 'not_found';

/**
 * Applies a provider's verdict on a token, and only when it is still about the stored token: the
 * token is held by the same user and was registered before the provider's timestamp (or, without
 * one, before the dispatcher saw the error). A token registered again since then stays: that
 * registration is newer evidence than the provider's answer to an older send.
 */
@Injectable()
export class InvalidationService {
  private readonly logger = new Logger(InvalidationService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UsersRepository,
    private readonly devices: DevicesRepository,
    private readonly outbox: OutboxWriter,
  ) {}

  async apply(ev: TokenInvalidated): Promise<InvalidationResult> {
    const mismatch = ev.reason === 'environment_mismatch';
    if (mismatch && ev.provider !== 'apns') {
      throw new PoisonRecordException(
        'ENVIRONMENT_MISMATCH_NOT_APNS',
        'environment_mismatch applies to APNs tokens only',
      );
    }
    const before = new Date(ev.providerTimestamp ?? ev.at);
    const token = ev.provider === 'apns' ? ev.token.toLowerCase() : ev.token;
    const result = await inTransaction(this.dataSource, async (tx) => {
      // Who holds the token decides whose snapshot changes; it may have moved to another user.
      const holder = await this.devices.holderOf(tx, ev.appId, ev.provider, token);
      if (!holder) return 'not_found' as const;
      if (holder.updatedAt >= before) return 'stale' as const;
      const user = await this.users.lockAndBump(tx, holder.appId, holder.userId);
      const cas = { appId: holder.appId, userId: holder.userId, provider: ev.provider, token };
      const changed = mismatch
        ? await this.devices.setEnvironmentIfStale(
            tx,
            cas,
            before,
            ev.environment ?? (holder.environment === 'sandbox' ? 'production' : 'sandbox'),
          )
        : await this.devices.deleteIfStale(tx, cas, before);
      // Re-registered or moved between the read and the lock: the newer state wins.
      if (!changed) throw new Rollback('stale' as const);
      await this.outbox.append(
        tx,
        user,
        await this.devices.ofUser(tx, holder.appId, holder.userId),
      );
      return mismatch ? ('environment_updated' as const) : ('deleted' as const);
    });
    if (result === 'deleted' || result === 'environment_updated') this.outbox.committed();
    this.logger.log({
      msg: 'token invalidation applied',
      appId: ev.appId,
      userId: ev.userId,
      deviceId: ev.deviceId,
      token: redactToken(ev.token),
      reason: ev.reason,
      result,
    });
    return result;
  }
}
