import type { DataSource } from 'typeorm';
import { inTransaction } from '../database/transaction.util';
import { DevicesRepository } from '../devices/devices.repository';
import { UsersRepository } from '../users/users.repository';
import type { OutboxWriter } from './outbox.writer';

export interface RepublishOptions {
  /** Only this app's users. */
  appId?: string;
  /** Users per transaction: small, so that live registrations never wait long for a lock. */
  batchSize?: number;
  /** Pause between batches, to leave the relay and the database room for live traffic. */
  pauseMs?: number;
  onProgress?: (done: number) => void;
}

/**
 * Appends every user's current snapshot to the outbox, with a bumped version, a batch of users at
 * a time. Going through the outbox (rather than producing directly) keeps the per-user order with
 * live changes: a republished snapshot can never land after, and so hide, a newer one.
 */
export async function republishAll(
  dataSource: DataSource,
  writer: OutboxWriter,
  opts: RepublishOptions = {},
): Promise<number> {
  const users = new UsersRepository(dataSource);
  const devices = new DevicesRepository(dataSource);
  const batchSize = opts.batchSize ?? 500;
  let cursor = { appId: '', userId: '' };
  let done = 0;
  for (;;) {
    const page = await dataSource.query<Array<{ app_id: string; user_id: string }>>(
      `SELECT app_id, user_id FROM registry_users
       WHERE (app_id, user_id) > ($1, $2) AND ($3::varchar IS NULL OR app_id = $3)
       ORDER BY app_id, user_id LIMIT $4`,
      [cursor.appId, cursor.userId, opts.appId ?? null, batchSize],
    );
    if (page.length === 0) return done;
    const byApp = new Map<string, string[]>();
    for (const r of page) byApp.set(r.app_id, [...(byApp.get(r.app_id) ?? []), r.user_id]);
    for (const [appId, userIds] of byApp) {
      done += await inTransaction(dataSource, async (tx) => {
        const bumped = await users.bumpMany(tx, appId, userIds);
        const held = await devices.ofUsers(tx, appId, userIds);
        for (const user of bumped) await writer.append(tx, user, held.get(user.userId) ?? []);
        return bumped.length;
      });
    }
    writer.committed();
    const last = page[page.length - 1];
    cursor = { appId: last.app_id, userId: last.user_id };
    opts.onProgress?.(done);
    if (opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
  }
}
