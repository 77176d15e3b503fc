import type { MigrationInterface, QueryRunner } from 'typeorm';
import { qualified, reportsSchemaOf } from '../reports-schema';

/**
 * The outcomes, partitioned by day of `decided_at` (`day`, see store/outcome-rows.ts), and the
 * per-minute rollups, partitioned by day of `minute`. Partitions are created by the maintenance
 * job (today and the days ahead) and by the store when a batch needs one; retention drops them.
 * Ids are `COLLATE "C"`: byte order, the same in every locale, and cheaper to compare.
 */
export const outcomesTable = (s: string): string => `
  CREATE TABLE ${qualified(s, 'outcomes')} (
    day date NOT NULL,
    job_id varchar(512) COLLATE "C" NOT NULL,
    app_id varchar(128) COLLATE "C" NOT NULL,
    message_id varchar(256) COLLATE "C" NOT NULL,
    user_id varchar(128) COLLATE "C" NOT NULL,
    device_id varchar(128) COLLATE "C",
    provider varchar(8),
    status varchar(16) NOT NULL,
    code varchar(128),
    reason varchar(1024),
    attempts integer NOT NULL,
    latency_ms double precision,
    decided_at timestamptz NOT NULL,
    at timestamptz NOT NULL,
    stored_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT outcomes_pkey PRIMARY KEY (job_id, day)
  ) PARTITION BY RANGE (day)`;

/** One row per app × minute × provider × status × code ('' for none: key columns are not null). */
export const rollupsTable = (s: string): string => `
  CREATE TABLE ${qualified(s, 'outcome_rollups')} (
    app_id varchar(128) COLLATE "C" NOT NULL,
    minute timestamptz NOT NULL,
    provider varchar(8) NOT NULL,
    status varchar(16) NOT NULL,
    code varchar(128) COLLATE "C" NOT NULL,
    count bigint NOT NULL,
    latency_count bigint NOT NULL,
    latency_sum_ms double precision NOT NULL,
    latency_max_ms double precision,
    CONSTRAINT outcome_rollups_pkey PRIMARY KEY (app_id, minute, provider, status, code)
  ) PARTITION BY RANGE (minute)`;

export class ReportsSchema1764979200000 implements MigrationInterface {
  name = 'ReportsSchema1764979200000';

  async up(q: QueryRunner): Promise<void> {
    const s = reportsSchemaOf(q);
    await q.query(`CREATE SCHEMA IF NOT EXISTS "${s}"`);
    await q.query(outcomesTable(s));
    // A message's recipients, in the API's order (user, then job).
    await q.query(
      `CREATE INDEX outcomes_by_message ON ${qualified(s, 'outcomes')} (app_id, message_id, user_id, job_id)`,
    );
    // A user's recent pushes, newest first.
    await q.query(
      `CREATE INDEX outcomes_by_user ON ${qualified(s, 'outcomes')} (app_id, user_id, decided_at DESC, job_id DESC)`,
    );
    await q.query(rollupsTable(s));
  }

  async down(q: QueryRunner): Promise<void> {
    const s = reportsSchemaOf(q);
    await q.query(`DROP TABLE ${qualified(s, 'outcome_rollups')}`);
    await q.query(`DROP TABLE ${qualified(s, 'outcomes')}`);
  }
}
