import type { MigrationInterface, QueryRunner } from 'typeorm';
import { qualified, reportsSchemaOf } from '../reports-schema';

/**
 * Push tasks' progress per partition (routing.task-progress.v1, issue 16): one row per task and
 * partition, the newest checkpoint (`seq`) wins. The push counts come from `outcomes`
 * (`message_id = 'task:<taskId>'`, on the `outcomes_by_message` index).
 */
export class PushTasks1795900000000 implements MigrationInterface {
  name = 'PushTasks1795900000000';

  async up(q: QueryRunner): Promise<void> {
    const s = reportsSchemaOf(q);
    await q.query(`
      CREATE TABLE ${qualified(s, 'push_tasks')} (
        app_id varchar(128) COLLATE "C" NOT NULL,
        task_id uuid NOT NULL,
        partition integer NOT NULL,
        partitions integer NOT NULL,
        records integer,
        state varchar(16) NOT NULL,
        targeted bigint NOT NULL,
        decided bigint NOT NULL,
        revoked bigint,
        revoke_done boolean,
        seq bigint NOT NULL,
        updated_at timestamptz NOT NULL,
        CONSTRAINT push_tasks_pkey PRIMARY KEY (app_id, task_id, partition)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ${qualified(reportsSchemaOf(q), 'push_tasks')}`);
  }
}
