import { Injectable } from '@nestjs/common';
import { TOPICS, type TokenUserDevices } from '@app/contracts';
import { encodeOutbound, formatZodIssues, outbound, RecordTooLargeException } from '@app/kafka';
import { ProblemException } from '@app/http';
import { currentContext } from '@app/observability';
import { EventEmitter } from 'node:events';
import type { Tx } from '../database/transaction.util';
import type { DeviceEntity } from '../devices/device.entity';
import { buildSnapshot, type UserState } from '../snapshot/snapshot.builder';

/**
 * Appends a user's new snapshot to the outbox inside the caller's transaction, so that the change
 * and its publication commit or fail together. The snapshot is checked against the topic's schema
 * here, and its size against the topic's limit: a bad or oversized snapshot fails the request
 * (413), never the relay.
 */
@Injectable()
export class OutboxWriter {
  /** Wakes this instance's relay after a commit, so a change need not wait for the next poll. */
  readonly written = new EventEmitter();

  async append(tx: Tx, user: UserState, devices: DeviceEntity[]): Promise<TokenUserDevices> {
    const snapshot = buildSnapshot(user, devices);
    const parsed = TOPICS.tokenUserDevices.schema.safeParse(snapshot);
    if (!parsed.success) {
      throw new Error(`snapshot fails its schema: ${formatZodIssues(parsed.error).join('; ')}`);
    }
    try {
      encodeOutbound(outbound(TOPICS.tokenUserDevices, parsed.data));
    } catch (e) {
      if (!(e instanceof RecordTooLargeException)) throw e;
      // Refused before anything is acknowledged: the relay could never publish it.
      throw new ProblemException(
        413,
        'SNAPSHOT_TOO_LARGE',
        `the user's devices and settings would make a ${TOPICS.tokenUserDevices.name} record of about ${e.bytes} bytes, over the topic's limit of ${e.limit} bytes`,
      );
    }
    const ctx = currentContext();
    await tx.query(
      `INSERT INTO registry_outbox (app_id, user_id, version, payload, correlation_id, traceparent)
       VALUES ($1, $2, $3, $4::jsonb, $5, $6)`,
      [
        user.appId,
        user.userId,
        user.version,
        JSON.stringify(snapshot),
        ctx?.correlationId ?? null,
        ctx?.traceparent ?? null,
      ],
    );
    return snapshot;
  }

  /** Call after the transaction committed. */
  committed(): void {
    this.written.emit('written');
  }
}
