import type { MigrationInterface, QueryRunner } from 'typeorm';

const USERS_TABLE = `
      CREATE TABLE registry_users (
        app_id varchar(128) NOT NULL,
        user_id varchar(128) NOT NULL,
        version bigint NOT NULL DEFAULT 1,
        push_enabled boolean NOT NULL DEFAULT true,
        hide_preview boolean NOT NULL DEFAULT false,
        snooze_until timestamptz(3),
        dnd_start_second integer CHECK (dnd_start_second BETWEEN 0 AND 86399),
        dnd_duration_seconds integer CHECK (dnd_duration_seconds BETWEEN 1 AND 86400),
        dnd_time_zone varchar(64),
        sound_c2c varchar(256),
        sound_group varchar(256),
        conversations jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT registry_users_pk PRIMARY KEY (app_id, user_id),
        CONSTRAINT registry_users_dnd_whole CHECK (
          (dnd_start_second IS NULL) = (dnd_duration_seconds IS NULL)
          AND (dnd_start_second IS NULL) = (dnd_time_zone IS NULL))
      )`;

const DEVICES_TABLE = `
      CREATE TABLE registry_devices (
        app_id varchar(128) NOT NULL,
        user_id varchar(128) NOT NULL,
        device_id varchar(128) NOT NULL,
        platform varchar(16) NOT NULL CHECK (platform IN ('ios', 'android', 'web', 'desktop')),
        provider varchar(8) NOT NULL CHECK (provider IN ('apns', 'fcm')),
        token varchar(1024) NOT NULL,
        topic varchar(256),
        environment varchar(16) CHECK (environment IN ('sandbox', 'production')),
        push_type varchar(16) CHECK (push_type IN ('alert', 'background', 'voip')),
        locale varchar(35),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT registry_devices_pk PRIMARY KEY (app_id, user_id, device_id),
        CONSTRAINT registry_devices_user_fk FOREIGN KEY (app_id, user_id)
          REFERENCES registry_users (app_id, user_id) ON DELETE CASCADE
      )`;

const OUTBOX_TABLE = `
      CREATE TABLE registry_outbox (
        id bigserial NOT NULL,
        app_id varchar(128) NOT NULL,
        user_id varchar(128) NOT NULL,
        version bigint NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        correlation_id varchar(128),
        traceparent varchar(64),
        sent_at timestamptz(3),
        error text,
        CONSTRAINT registry_outbox_pk PRIMARY KEY (id)
      )`;

/** Users (settings and snapshot version), devices and the outbox. */
export class RegistrySchema1764136800000 implements MigrationInterface {
  name = 'RegistrySchema1764136800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(USERS_TABLE);
    await q.query(DEVICES_TABLE);
    await q.query(
      `CREATE UNIQUE INDEX registry_devices_token_uq ON registry_devices (app_id, provider, token)`,
    );
    await q.query(OUTBOX_TABLE);
    // The relay's work list: unsent rows, per user in version order.
    await q.query(
      `CREATE INDEX registry_outbox_unsent ON registry_outbox (app_id, user_id, version) WHERE sent_at IS NULL`,
    );
    await q.query(
      `CREATE INDEX registry_outbox_sent_at ON registry_outbox (sent_at) WHERE sent_at IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE registry_outbox`);
    await q.query(`DROP TABLE registry_devices`);
    await q.query(`DROP TABLE registry_users`);
  }
}
