import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { PushPrivacy, ReceiveOption } from '@app/contracts';

/**
 * One row per user the registry has seen: the user's push settings and the version of their
 * snapshot. Every change to a user's devices or settings locks and bumps this row first, which
 * serialises the changes of one user and gives each snapshot a strictly larger version.
 */
@Entity({ name: 'registry_users' })
export class PushUserEntity {
  @PrimaryColumn({ name: 'app_id', type: 'varchar', length: 128 })
  appId!: string;

  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 128 })
  userId!: string;

  @Column({ type: 'bigint', default: 1, transformer: { to: (v: number) => v, from: Number } })
  version!: number;

  @Column({ name: 'push_enabled', type: 'boolean', default: true })
  pushEnabled!: boolean;

  @Column({ name: 'hide_preview', type: 'boolean', default: false })
  hidePreview!: boolean;

  @Column({ name: 'snooze_until', type: 'timestamptz', precision: 3, nullable: true })
  snoozeUntil!: Date | null;

  @Column({ name: 'dnd_start_second', type: 'integer', nullable: true })
  dndStartSecond!: number | null;

  @Column({ name: 'dnd_duration_seconds', type: 'integer', nullable: true })
  dndDurationSeconds!: number | null;

  @Column({ name: 'dnd_time_zone', type: 'varchar', length: 64, nullable: true })
  dndTimeZone!: string | null;

  @Column({ name: 'sound_c2c', type: 'varchar', length: 256, nullable: true })
  soundC2c!: string | null;

  @Column({ name: 'sound_group', type: 'varchar', length: 256, nullable: true })
  soundGroup!: string | null;

  /** `{"group:g-7": "receive_except_at", "c2c:alice": "receive_not_notify"}` */
  @Column({ type: 'jsonb', default: () => `'{}'::jsonb` })
  conversations!: Record<string, ReceiveOption>;

  /** `full` / `id_only`; null follows the app's `privacy`. */
  @Column({ type: 'varchar', length: 16, nullable: true })
  privacy!: PushPrivacy | null;

  /** Unique and sorted, at most 50 (`UserTagsSchema`). */
  @Column({ type: 'jsonb', default: () => `'[]'::jsonb` })
  tags!: string[];

  /** `{"city": "berlin"}`: at most 20 (`UserAttributesSchema`). */
  @Column({ type: 'jsonb', default: () => `'{}'::jsonb` })
  attributes!: Record<string, string>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt!: Date;
}
