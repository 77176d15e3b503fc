import { Injectable, Logger } from '@nestjs/common';
import { MAX_USER_ATTRIBUTES, MAX_USER_TAGS } from '@app/contracts';
import { ValidationProblem } from '@app/http';
import { DataSource } from 'typeorm';
import { inTransaction, Rollback } from '../database/transaction.util';
import { DevicesRepository } from '../devices/devices.repository';
import type { UserPath } from '../devices/device.dto';
import { OutboxWriter } from '../outbox/outbox.writer';
import { sortedAttributes, sortedTags, type UserState } from '../snapshot/snapshot.builder';
import { UsersRepository, type AudienceColumns } from './users.repository';

export interface TagsView {
  version: number;
  tags: string[];
}

export interface AttributesView {
  version: number;
  attributes: Record<string, string>;
}

/** A change to a user's tags: `tags` is unique and sorted (the DTOs make it so). */
export type TagChange =
  | { op: 'replace'; tags: string[] }
  | { op: 'add'; tags: string[] }
  | { op: 'remove'; tags?: string[] };

/** A change to a user's attributes; in `merge`, `null` removes the attribute. */
export type AttributeChange =
  | { op: 'replace'; attributes: Record<string, string> }
  | { op: 'merge'; attributes: Record<string, string | null> };

/**
 * The user's tags after a change (unique, sorted), or a 400 naming `tags` when an addition would
 * store more than 50. `remove` without tags removes them all.
 */
export function changeTags(current: readonly string[], change: TagChange): string[] {
  if (change.op === 'replace') return sortedTags(change.tags);
  if (change.op === 'remove') {
    if (change.tags === undefined) return [];
    const removed = new Set(change.tags);
    return sortedTags(current.filter((t) => !removed.has(t)));
  }
  const next = sortedTags([...current, ...change.tags]);
  if (next.length > MAX_USER_TAGS) {
    throw new ValidationProblem([
      {
        field: 'tags',
        message: `at most ${MAX_USER_TAGS} tags per user (this change would store ${next.length})`,
      },
    ]);
  }
  return next;
}

/**
 * The user's attributes after a change (keys sorted), or a 400 naming `attributes` when a merge
 * would store more than 20. A merge that does not add to a user's count always passes.
 */
export function changeAttributes(
  current: Readonly<Record<string, string>>,
  change: AttributeChange,
): Record<string, string> {
  if (change.op === 'replace') return sortedAttributes(change.attributes);
  const next: Record<string, string> = { ...current };
  for (const [k, v] of Object.entries(change.attributes)) {
    if (v === null) delete next[k];
    else next[k] = v;
  }
  const stored = Object.keys(next).length;
  if (stored > MAX_USER_ATTRIBUTES && stored > Object.keys(current).length) {
    throw new ValidationProblem([
      {
        field: 'attributes',
        message: `at most ${MAX_USER_ATTRIBUTES} attributes per user (this change would store ${stored})`,
      },
    ]);
  }
  return sortedAttributes(next);
}

const sameAudience = (a: AudienceColumns, b: AudienceColumns): boolean =>
  JSON.stringify(sortedTags(a.tags)) === JSON.stringify(sortedTags(b.tags)) &&
  JSON.stringify(sortedAttributes(a.attributes)) === JSON.stringify(sortedAttributes(b.attributes));

/**
 * Tags and attributes of a user. A change is one transaction like a settings change (lock and bump
 * the user, write, append the new snapshot to the outbox); a change that changes nothing is rolled
 * back and publishes nothing (re-sending a user's tags every night costs no snapshot).
 */
@Injectable()
export class AudienceService {
  private readonly logger = new Logger(AudienceService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UsersRepository,
    private readonly devices: DevicesRepository,
    private readonly outbox: OutboxWriter,
  ) {}

  async tags(key: UserPath): Promise<TagsView> {
    const user = await this.users.find(key.appId, key.userId);
    return { version: user?.version ?? 0, tags: user ? sortedTags(user.tags) : [] };
  }

  async attributes(key: UserPath): Promise<AttributesView> {
    const user = await this.users.find(key.appId, key.userId);
    return {
      version: user?.version ?? 0,
      attributes: user ? sortedAttributes(user.attributes) : {},
    };
  }

  async changeTags(key: UserPath, change: TagChange): Promise<TagsView> {
    const user = await this.change(key, `tags ${change.op}`, (u) => ({
      tags: changeTags(u.tags, change),
      attributes: u.attributes,
    }));
    return { version: user.version, tags: sortedTags(user.tags) };
  }

  async changeAttributes(key: UserPath, change: AttributeChange): Promise<AttributesView> {
    const user = await this.change(key, `attributes ${change.op}`, (u) => ({
      tags: u.tags,
      attributes: changeAttributes(u.attributes, change),
    }));
    return { version: user.version, attributes: sortedAttributes(user.attributes) };
  }

  private async change(
    key: UserPath,
    what: string,
    next: (current: UserState) => AudienceColumns,
  ): Promise<UserState> {
    const result = await inTransaction(this.dataSource, async (tx) => {
      const current = await this.users.lockAndBump(tx, key.appId, key.userId);
      const audience = next(current);
      if (sameAudience(audience, current)) {
        // Nothing changes: the bump (or the row of a new user) is rolled back with it.
        throw new Rollback({ changed: false, user: { ...current, version: current.version - 1 } });
      }
      const user = await this.users.writeAudience(tx, key.appId, key.userId, audience);
      await this.outbox.append(tx, user, await this.devices.ofUser(tx, key.appId, key.userId));
      return { changed: true, user };
    });
    if (result.changed) {
      this.outbox.committed();
      this.logger.log({ msg: `${what}: changed`, ...key, version: result.user.version });
    }
    return result.user;
  }
}
