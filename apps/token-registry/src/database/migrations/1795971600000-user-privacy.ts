import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A user's own privacy mode (`full` / `id_only`); null, the default for every existing user,
 * follows the app's `privacy` from the apps file. Existing snapshots are unchanged: the snapshot
 * field is optional, and a user's next change publishes `privacy: null`.
 */
export class UserPrivacy1795971600000 implements MigrationInterface {
  name = 'UserPrivacy1795971600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE registry_users ADD COLUMN privacy varchar(16) NULL
         CONSTRAINT registry_users_privacy_check CHECK (privacy IN ('full', 'id_only'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE registry_users DROP COLUMN privacy`);
  }
}
