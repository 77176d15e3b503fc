import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { TokenUserDevices } from '@app/contracts';

/**
 * A user's whole snapshot, written in the same transaction as the change that produced it and
 * published to `token.user-devices.v1` by the relay.
 */
@Entity({ name: 'registry_outbox' })
@Index('registry_outbox_unsent', ['appId', 'userId', 'version'], { where: 'sent_at IS NULL' })
@Index('registry_outbox_unsent_id', ['id'], { where: 'sent_at IS NULL' })
@Index('registry_outbox_sent_at', ['sentAt'], { where: 'sent_at IS NOT NULL' })
export class OutboxEntryEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'app_id', type: 'varchar', length: 128 })
  appId!: string;

  @Column({ name: 'user_id', type: 'varchar', length: 128 })
  userId!: string;

  @Column({ type: 'bigint', transformer: { to: (v: number) => v, from: Number } })
  version!: number;

  @Column({ type: 'jsonb' })
  payload!: TokenUserDevices;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  /** The request that caused the change, carried into the record's headers. */
  @Column({ name: 'correlation_id', type: 'varchar', length: 128, nullable: true })
  correlationId!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  traceparent!: string | null;

  /** Set once published, or once a newer snapshot of the same user made this one moot. */
  @Column({ name: 'sent_at', type: 'timestamptz', precision: 3, nullable: true })
  sentAt!: Date | null;

  /** Why the relay gave up on this row (a payload that fails the topic's schema). */
  @Column({ type: 'text', nullable: true })
  error!: string | null;
}
