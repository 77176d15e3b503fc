import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '../database/transaction.util';
import type { UserState } from '../snapshot/snapshot.builder';
import { PushUserEntity } from './push-user.entity';

interface UserRow {
  app_id: string;
  user_id: string;
  version: string;
  push_enabled: boolean;
  hide_preview: boolean;
  snooze_until: Date | null;
  dnd_start_second: number | null;
  dnd_duration_seconds: number | null;
  dnd_time_zone: string | null;
  sound_c2c: string | null;
  sound_group: string | null;
  conversations: UserState['conversations'];
  privacy: UserState['privacy'];
  tags: string[];
  attributes: Record<string, string>;
  updated_at: Date;
}

const fromRow = (r: UserRow): UserState => ({
  appId: r.app_id,
  userId: r.user_id,
  version: Number(r.version),
  pushEnabled: r.push_enabled,
  hidePreview: r.hide_preview,
  snoozeUntil: r.snooze_until,
  dndStartSecond: r.dnd_start_second,
  dndDurationSeconds: r.dnd_duration_seconds,
  dndTimeZone: r.dnd_time_zone,
  soundC2c: r.sound_c2c,
  soundGroup: r.sound_group,
  conversations: r.conversations,
  privacy: r.privacy,
  tags: r.tags,
  attributes: r.attributes,
  updatedAt: r.updated_at,
});

export type SettingsColumns = Omit<
  UserState,
  'appId' | 'userId' | 'version' | 'updatedAt' | 'tags' | 'attributes'
>;

/** The audience columns (issue 16): written whole, the service having merged them. */
export type AudienceColumns = Pick<UserState, 'tags' | 'attributes'>;

@Injectable()
export class UsersRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Locks the user's row (creating it) and bumps the version: the first statement of every change
   * to a user, so that changes of one user apply one at a time, in version order.
   */
  async lockAndBump(tx: Tx, appId: string, userId: string): Promise<UserState> {
    const { rows } = await tx.query<UserRow>(
      `INSERT INTO registry_users (app_id, user_id) VALUES ($1, $2)
       ON CONFLICT (app_id, user_id) DO UPDATE
         SET version = registry_users.version + 1, updated_at = clock_timestamp()
       RETURNING *`,
      [appId, userId],
    );
    return fromRow(rows[0]);
  }

  /** Bumps many users at once (republish), locking them in key order so that it cannot deadlock. */
  async bumpMany(tx: Tx, appId: string, userIds: string[]): Promise<UserState[]> {
    const { rows } = await tx.query<UserRow>(
      `WITH locked AS (
         SELECT app_id, user_id FROM registry_users
         WHERE app_id = $1 AND user_id = ANY($2::varchar[])
         ORDER BY user_id FOR UPDATE)
       UPDATE registry_users u SET version = u.version + 1, updated_at = clock_timestamp()
       FROM locked WHERE u.app_id = locked.app_id AND u.user_id = locked.user_id
       RETURNING u.*`,
      [appId, userIds],
    );
    return rows.map(fromRow);
  }

  async writeSettings(
    tx: Tx,
    appId: string,
    userId: string,
    s: SettingsColumns,
  ): Promise<UserState> {
    const { rows } = await tx.query<UserRow>(
      `UPDATE registry_users SET push_enabled = $3, hide_preview = $4, snooze_until = $5,
         dnd_start_second = $6, dnd_duration_seconds = $7, dnd_time_zone = $8,
         sound_c2c = $9, sound_group = $10, conversations = $11::jsonb, privacy = $12
       WHERE app_id = $1 AND user_id = $2 RETURNING *`,
      [
        appId,
        userId,
        s.pushEnabled,
        s.hidePreview,
        s.snoozeUntil,
        s.dndStartSecond,
        s.dndDurationSeconds,
        s.dndTimeZone,
        s.soundC2c,
        s.soundGroup,
        JSON.stringify(s.conversations),
        s.privacy,
      ],
    );
    return fromRow(rows[0]);
  }

  async writeAudience(
    tx: Tx,
    appId: string,
    userId: string,
    a: AudienceColumns,
  ): Promise<UserState> {
    const { rows } = await tx.query<UserRow>(
      `UPDATE registry_users SET tags = $3::jsonb, attributes = $4::jsonb
       WHERE app_id = $1 AND user_id = $2 RETURNING *`,
      [appId, userId, JSON.stringify(a.tags), JSON.stringify(a.attributes)],
    );
    return fromRow(rows[0]);
  }

  find(appId: string, userId: string): Promise<PushUserEntity | null> {
    return this.dataSource.getRepository(PushUserEntity).findOneBy({ appId, userId });
  }
}
