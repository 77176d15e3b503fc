import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * APNs devices may be Live Activity push tokens (`push_type = 'liveactivity'`): the CHECK of
 * `registry_devices.push_type` is widened. Only the constraint changes; no row is touched.
 */
export class LiveActivityPushType1764900000000 implements MigrationInterface {
  name = 'LiveActivityPushType1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE registry_devices DROP CONSTRAINT IF EXISTS registry_devices_push_type_check`,
    );
    await q.query(
      `ALTER TABLE registry_devices ADD CONSTRAINT registry_devices_push_type_check
       CHECK (push_type IN ('alert', 'background', 'voip', 'liveactivity'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    // Live-activity tokens cannot be kept under the old constraint: they are removed.
    await q.query(`DELETE FROM registry_devices WHERE push_type = 'liveactivity'`);
    await q.query(
      `ALTER TABLE registry_devices DROP CONSTRAINT IF EXISTS registry_devices_push_type_check`,
    );
    await q.query(
      `ALTER TABLE registry_devices ADD CONSTRAINT registry_devices_push_type_check
       CHECK (push_type IN ('alert', 'background', 'voip'))`,
    );
  }
}
