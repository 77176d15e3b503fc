import { Injectable } from '@nestjs/common';
import type { Provider } from '@app/contracts';
import { DataSource, In } from 'typeorm';
import type { Tx } from '../database/transaction.util';
import type { RegisterDeviceInput } from './device.dto';
import { DeviceEntity } from './device.entity';

export interface DeviceKey {
  appId: string;
  userId: string;
  deviceId: string;
}

@Injectable()
export class DevicesRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Takes the token away from any other user or device of the app that holds it (a move). */
  async releaseToken(
    tx: Tx,
    key: DeviceKey,
    provider: string,
    token: string,
  ): Promise<Array<{ userId: string; deviceId: string }>> {
    const { rows } = await tx.query<{ user_id: string; device_id: string }>(
      `DELETE FROM registry_devices
       WHERE app_id = $1 AND provider = $2 AND token = $3 AND NOT (user_id = $4 AND device_id = $5)
       RETURNING user_id, device_id`,
      [key.appId, provider, token, key.userId, key.deviceId],
    );
    return rows.map((r) => ({ userId: r.user_id, deviceId: r.device_id }));
  }

  /** Registers (or re-registers) the device; `updated_at` is the database clock at this moment. */
  async upsert(tx: Tx, key: DeviceKey, d: RegisterDeviceInput): Promise<void> {
    await tx.query(
      `INSERT INTO registry_devices (app_id, user_id, device_id, platform, provider, token, topic,
         environment, push_type, locale, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, clock_timestamp(), clock_timestamp())
       ON CONFLICT (app_id, user_id, device_id) DO UPDATE SET platform = EXCLUDED.platform,
         provider = EXCLUDED.provider, token = EXCLUDED.token, topic = EXCLUDED.topic,
         environment = EXCLUDED.environment, push_type = EXCLUDED.push_type,
         locale = EXCLUDED.locale, updated_at = EXCLUDED.updated_at`,
      [
        key.appId,
        key.userId,
        key.deviceId,
        d.platform,
        d.provider,
        d.token,
        d.topic,
        d.environment,
        d.pushType,
        d.locale,
      ],
    );
  }

  /** The user's devices, most recently registered first. */
  ofUser(tx: Tx | undefined, appId: string, userId: string): Promise<DeviceEntity[]> {
    const manager = tx?.manager ?? this.dataSource.manager;
    return manager.find(DeviceEntity, {
      where: { appId, userId },
      order: { updatedAt: 'DESC', deviceId: 'ASC' },
    });
  }

  async ofUsers(tx: Tx, appId: string, userIds: string[]): Promise<Map<string, DeviceEntity[]>> {
    const all = await tx.manager.find(DeviceEntity, { where: { appId, userId: In(userIds) } });
    const byUser = new Map<string, DeviceEntity[]>();
    for (const d of all) byUser.set(d.userId, [...(byUser.get(d.userId) ?? []), d]);
    return byUser;
  }

  async remove(tx: Tx, appId: string, userId: string, deviceIds: string[]): Promise<number> {
    const { affected } = await tx.query(
      `DELETE FROM registry_devices WHERE app_id = $1 AND user_id = $2 AND device_id = ANY($3::varchar[])`,
      [appId, userId, deviceIds],
    );
    return affected;
  }

  /** Who holds a token now, and since when. */
  async holderOf(
    tx: Tx,
    appId: string,
    provider: Provider,
    token: string,
  ): Promise<DeviceEntity | null> {
    return tx.manager.findOneBy(DeviceEntity, { appId, provider, token });
  }
}
