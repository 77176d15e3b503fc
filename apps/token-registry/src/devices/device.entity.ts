import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import type { ApnsEnvironment, Platform, Provider } from '@app/contracts';

export type ApnsPushType = 'alert' | 'background' | 'voip' | 'liveactivity';

/**
 * A registered device. A token has one owner per app and provider (the unique index), so a token
 * registered by another user or device moves rather than being pushed to twice.
 */
@Entity({ name: 'registry_devices' })
@Index('registry_devices_token_uq', ['appId', 'provider', 'token'], { unique: true })
export class DeviceEntity {
  @PrimaryColumn({ name: 'app_id', type: 'varchar', length: 128 })
  appId!: string;

  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 128 })
  userId!: string;

  @PrimaryColumn({ name: 'device_id', type: 'varchar', length: 128 })
  deviceId!: string;

  @Column({ type: 'varchar', length: 16 })
  platform!: Platform;

  @Column({ type: 'varchar', length: 8 })
  provider!: Provider;

  @Column({ type: 'varchar', length: 1024 })
  token!: string;

  @Column({ type: 'varchar', length: 256, nullable: true })
  topic!: string | null;

  @Column({ type: 'varchar', length: 16, nullable: true })
  environment!: ApnsEnvironment | null;

  @Column({ name: 'push_type', type: 'varchar', length: 16, nullable: true })
  pushType!: ApnsPushType | null;

  @Column({ type: 'varchar', length: 35, nullable: true })
  locale!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  /**
   * When the token was last registered (set by the database clock). An invalidation only deletes
   * a token registered before the provider's timestamp, and the device cap evicts the oldest.
   */
  @Column({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt!: Date;
}
