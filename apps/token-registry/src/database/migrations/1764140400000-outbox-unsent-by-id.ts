import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The relay claims unsent rows in id order: after an outage the backlog can be large, and this lets
 * it walk the unsent rows by id instead of sorting them all every round.
 */
export class OutboxUnsentById1764140400000 implements MigrationInterface {
  name = 'OutboxUnsentById1764140400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX registry_outbox_unsent_id ON registry_outbox (id) WHERE sent_at IS NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX registry_outbox_unsent_id`);
  }
}
