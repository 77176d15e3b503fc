import { Injectable, Logger } from '@nestjs/common';
import { ServiceConfig } from '@app/config';
import { ProblemException } from '@app/http';
import { redactToken } from '@app/observability';
import { DataSource } from 'typeorm';
import { inTransaction, Rollback, type Tx } from '../database/transaction.util';
import { OutboxWriter } from '../outbox/outbox.writer';
import type { RegistryEnv } from '../registry-env.schema';
import { tokenPreview } from '../snapshot/snapshot.builder';
import { registryMetrics } from '../registry.metrics';
import { UsersRepository } from '../users/users.repository';
import type { DevicePath, RegisterDeviceInput, UserPath } from './device.dto';
import type { DeviceEntity } from './device.entity';
import { devicesToEvict } from './device-cap.util';
import { DevicesRepository } from './devices.repository';

export interface DeviceView {
  deviceId: string;
  platform: string;
  provider: string;
  /** A short prefix and suffix of the token: listings never return a token whole. */
  tokenPreview: string;
  topic: string | null;
  environment: string | null;
  pushType: string | null;
  locale: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface RegisterResult {
  version: number;
  device: DeviceView;
  /** Where the token was before, when it moved here from another user or device. */
  movedFrom: Array<{ userId: string; deviceId: string }>;
  /** Devices removed because the user went over the device cap. */
  evicted: string[];
}

const isTokenTaken = (e: unknown): boolean => {
  const err = e as { code?: unknown; constraint?: unknown; driverError?: { constraint?: unknown } };
  return (
    err.code === '23505' &&
    (err.constraint ?? err.driverError?.constraint) === 'registry_devices_token_uq'
  );
};

const view = (d: DeviceEntity): DeviceView => ({
  deviceId: d.deviceId,
  platform: d.platform,
  provider: d.provider,
  tokenPreview: tokenPreview(d.token),
  topic: d.topic,
  environment: d.environment,
  pushType: d.pushType,
  locale: d.locale,
  createdAt: d.createdAt.toISOString(),
  updatedAt: d.updatedAt.toISOString(),
});

@Injectable()
export class DevicesService {
  private readonly logger = new Logger(DevicesService.name);
  private readonly maxDevices: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UsersRepository,
    private readonly devices: DevicesRepository,
    private readonly outbox: OutboxWriter,
    private readonly config: ServiceConfig<RegistryEnv>,
  ) {
    this.maxDevices = config.env.REGISTRY_MAX_DEVICES_PER_USER;
  }

  /**
   * Registers a device, or moves its token here from whoever held it. One transaction: the user's
   * row is locked and bumped first, the device written, the cap applied, and each touched user's
   * new snapshot appended to the outbox.
   *
   * Most registrations are an app re-registering the token it already has, so the token is not
   * looked for elsewhere first: when another user or device holds it, the upsert hits the unique
   * (app, provider, token) index, the transaction rolls back, and it runs again releasing the token
   * from its holder first. That saves a round trip on every ordinary registration.
   */
  async register(key: DevicePath, input: RegisterDeviceInput): Promise<RegisterResult> {
    this.checkTopic(key.appId, input.topic);
    let releaseFirst = false;
    const result = await inTransaction(this.dataSource, async (tx) => {
      const user = await this.users.lockAndBump(tx, key.appId, key.userId);
      const movedFrom = releaseFirst
        ? await this.devices.releaseToken(tx, key, input.provider, input.token)
        : [];
      try {
        await this.devices.upsert(tx, key, input);
      } catch (e) {
        // inTransaction runs the transaction again after a unique violation.
        if (isTokenTaken(e)) releaseFirst = true;
        throw e;
      }
      let devices = await this.devices.ofUser(tx, key.appId, key.userId);
      const evicted = devicesToEvict(devices, key.deviceId, this.maxDevices);
      if (evicted.length) {
        await this.devices.remove(tx, key.appId, key.userId, evicted);
        devices = devices.filter((d) => !evicted.includes(d.deviceId));
      }
      const snapshot = await this.outbox.append(tx, user, devices);
      // The previous holder's snapshot changes too: it must stop pushing to this token.
      const others = [...new Set(movedFrom.map((m) => m.userId))].filter((u) => u !== key.userId);
      for (const other of others.sort()) await this.republishUser(tx, key.appId, other);
      const device = devices.find((d) => d.deviceId === key.deviceId)!;
      return { version: snapshot.version, device: view(device), movedFrom, evicted };
    });
    this.outbox.committed();
    registryMetrics.registrations.inc({ moved: String(result.movedFrom.length > 0) });
    if (result.evicted.length) registryMetrics.evictions.inc(result.evicted.length);
    this.logger.log({
      msg: 'device registered',
      appId: key.appId,
      userId: key.userId,
      deviceId: key.deviceId,
      token: redactToken(input.token),
      version: result.version,
      movedFrom: result.movedFrom,
      evicted: result.evicted,
    });
    return result;
  }

  /** Logout. Idempotent: removing a device that is not there changes nothing and publishes nothing. */
  async unregister(key: DevicePath): Promise<{ removed: boolean; version?: number }> {
    const result = await inTransaction(this.dataSource, async (tx) => {
      const user = await this.users.lockAndBump(tx, key.appId, key.userId);
      const removed = await this.devices.remove(tx, key.appId, key.userId, [key.deviceId]);
      if (removed === 0) throw new Rollback({ removed: false });
      const devices = await this.devices.ofUser(tx, key.appId, key.userId);
      const snapshot = await this.outbox.append(tx, user, devices);
      return { removed: true, version: snapshot.version };
    });
    if (result.removed) {
      this.outbox.committed();
      this.logger.log({ msg: 'device removed', ...key, version: result.version });
    }
    return result;
  }

  async list(key: UserPath): Promise<{ version: number; devices: DeviceView[] }> {
    const [user, devices] = await Promise.all([
      this.users.find(key.appId, key.userId),
      this.devices.ofUser(undefined, key.appId, key.userId),
    ]);
    return { version: user?.version ?? 0, devices: devices.map(view) };
  }

  /** Appends a new snapshot of a user whose devices changed as a side effect. */
  async republishUser(tx: Tx, appId: string, userId: string): Promise<void> {
    const user = await this.users.lockAndBump(tx, appId, userId);
    await this.outbox.append(tx, user, await this.devices.ofUser(tx, appId, userId));
  }

  /** When the app names its APNs topics (bundle ids), a device's topic must be one of them. */
  private checkTopic(appId: string, topic: string | null): void {
    const topics = this.config.apps.get(appId)?.apns?.topics;
    if (topic === null || !topics || topics.includes(topic)) return;
    throw new ProblemException(
      400,
      'VALIDATION_FAILED',
      `topic: not an APNs topic of app ${appId}`,
      [{ field: 'topic', message: `one of ${topics.join(', ')}` }],
    );
  }
}
