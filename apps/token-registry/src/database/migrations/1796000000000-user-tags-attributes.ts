import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A user's tags (a sorted array of strings) and attributes (an object of strings), as jsonb on the
 * user's row (issue 16). Both are small and bounded (≤ 50 tags of ≤ 64 characters, ≤ 20 attributes
 * of ≤ 32 + 128 characters) and always read and written whole together with the row every change
 * already locks and returns, so a snapshot costs no extra round trip; nothing in the registry asks
 * "who has tag X" (routing finds a tag's users in its own memory), so no index is needed. The
 * CHECKs keep the shape; existing users get `[]` and `{}` and keep their published snapshot until
 * their next change.
 */
export class UserTagsAttributes1796000000000 implements MigrationInterface {
  name = 'UserTagsAttributes1796000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE registry_users
         ADD COLUMN tags jsonb NOT NULL DEFAULT '[]'::jsonb
           CONSTRAINT registry_users_tags_check
           CHECK (jsonb_typeof(tags) = 'array' AND jsonb_array_length(tags) <= 50),
         ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}'::jsonb
           CONSTRAINT registry_users_attributes_check CHECK (jsonb_typeof(attributes) = 'object')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE registry_users DROP COLUMN tags, DROP COLUMN attributes`);
  }
}
