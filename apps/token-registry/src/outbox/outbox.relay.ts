import { Logger } from '@nestjs/common';
import { TOPICS, type TokenUserDevices } from '@app/contracts';
import {
  Backoff,
  encodeOutbound,
  formatZodIssues,
  outbound,
  RecordTooLargeException,
  type EncodedRecord,
  type EventProducer,
} from '@app/kafka';
import type { RelayRounds } from './outbox.health';
import type { DataSource } from 'typeorm';
import { inTransaction, type Tx } from '../database/transaction.util';
import { registryMetrics } from '../registry.metrics';
import type { OutboxWriter } from './outbox.writer';

export interface OutboxRelayOptions {
  /** Users claimed per round. */
  batchSize: number;
  pollMs: number;
  retentionHours: number;
  /** Backoff after a failed round: doubles up to this. */
  maxBackoffMs?: number;
  /** Told about every round (readiness turns 503 when rounds keep failing). */
  rounds?: RelayRounds;
}

interface LatestRow {
  id: string;
  app_id: string;
  user_id: string;
  version: string;
  payload: TokenUserDevices;
  correlation_id: string | null;
  traceparent: string | null;
}

/**
 * Publishes the outbox to `token.user-devices.v1`.
 *
 * Each round, in one transaction: claim the *head* (oldest unsent row) of up to `batchSize` users
 * with `FOR UPDATE SKIP LOCKED`, publish each claimed user's *newest* unsent snapshot, and mark
 * every unsent row of that user up to it as sent. A row is a head only while no older row of its
 * user is unsent, so while one relay holds a user's head, no other relay can take any row of that
 * user: per user, snapshots reach Kafka in version order whatever the number of relays. Older
 * unsent snapshots of a user are skipped, not published (the topic is compacted and each snapshot
 * is the whole user, so the newest one says everything they did).
 *
 * If Kafka is down the transaction rolls back and the rows wait; a crash after publishing but
 * before the commit publishes the same version again, which consumers see as a duplicate.
 */
export class OutboxRelay {
  private readonly logger = new Logger(OutboxRelay.name);
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private lastPrune = 0;
  /** A change was committed since the relay last looked: the next idle returns at once. */
  private dirty = false;
  private wakeOnWrite = true;
  private readonly onWritten = () => {
    this.dirty = true;
    if (this.wakeOnWrite) this.wake?.();
  };

  private producer: EventProducer | undefined;

  /**
   * `createProducer` gives a fresh producer: after a failed send the relay drops its producer and
   * takes a new one (a new producer id). kafkajs rolls the idempotence sequence back when a send
   * fails, so if the broker had in fact written that batch, the next batch (a different snapshot)
   * would reuse its sequence number and could be discarded by the broker as a duplicate.
   */
  constructor(
    private readonly dataSource: DataSource,
    private readonly createProducer: () => EventProducer,
    private readonly opts: OutboxRelayOptions,
    private readonly writer?: OutboxWriter,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.writer?.written.on('written', this.onWritten);
    this.loop = this.run();
  }

  /**
   * Stops after the round in flight. Never abandons it: a send left running after its round had
   * rolled back could land after a newer snapshot of the same user published by another relay.
   * The relay's producer has a short retry budget, so this returns within seconds.
   */
  async stop(): Promise<void> {
    if (this.running) {
      this.running = false;
      this.writer?.written.off('written', this.onWritten);
      this.wake?.();
      await this.loop;
    }
    await this.dropProducer();
  }

  private async dropProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect();
  }

  private async run(): Promise<void> {
    const backoff = new Backoff({
      initialMs: this.opts.pollMs,
      maxMs: this.opts.maxBackoffMs ?? 10000,
    });
    while (this.running) {
      try {
        const published = await this.publishOnce();
        this.opts.rounds?.roundSucceeded();
        backoff.reset();
        await this.pruneIfDue();
        await this.countPendingIfDue();
        if (published < this.opts.batchSize) await this.idle(this.opts.pollMs);
      } catch (e) {
        this.opts.rounds?.roundFailed(e as Error);
        registryMetrics.outboxFailures.inc();
        await this.countPendingIfDue().catch(() => undefined);
        const retryInMs = backoff.next();
        this.logger.warn({
          msg: 'outbox relay round failed; rows wait',
          err: (e as Error).message,
          retryInMs,
        });
        await this.idle(retryInMs, false);
      }
    }
  }

  /** Waits `ms`, or less when stopped or (unless backing off after a failure) when a change commits. */
  private idle(ms: number, wakeOnWrite = true): Promise<void> {
    this.wakeOnWrite = wakeOnWrite;
    if ((wakeOnWrite && this.dirty) || !this.running) {
      this.dirty = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    }).then(() => {
      this.dirty = false;
    });
  }

  /** One round; returns how many users' snapshots it published. */
  async publishOnce(): Promise<number> {
    return inTransaction(
      this.dataSource,
      async (tx) => {
        const heads = await tx.query<{ app_id: string; user_id: string }>(
          `SELECT o.app_id, o.user_id FROM registry_outbox o
           WHERE o.sent_at IS NULL AND NOT EXISTS (
             SELECT 1 FROM registry_outbox e WHERE e.sent_at IS NULL
               AND e.app_id = o.app_id AND e.user_id = o.user_id AND e.version < o.version)
           ORDER BY o.id LIMIT $1
           FOR UPDATE OF o SKIP LOCKED`,
          [this.opts.batchSize],
        );
        if (heads.rows.length === 0) return 0;
        const latest = await this.latestOf(tx, heads.rows);
        const records: EncodedRecord[] = [];
        const rejected: Array<{ id: string; error: string }> = [];
        for (const row of latest) {
          const parsed = TOPICS.tokenUserDevices.schema.safeParse(row.payload);
          if (!parsed.success) {
            rejected.push({ id: row.id, error: formatZodIssues(parsed.error).join('; ') });
            continue;
          }
          const record = outbound(TOPICS.tokenUserDevices, parsed.data, {
            context: row.correlation_id
              ? { correlationId: row.correlation_id, traceparent: row.traceparent ?? undefined }
              : undefined,
          });
          try {
            records.push(encodeOutbound(record));
          } catch (e) {
            // The writer refuses such snapshots (413); only a lowered limit gets one here. It
            // must not hold back every other user's snapshot round after round.
            if (!(e instanceof RecordTooLargeException)) throw e;
            rejected.push({ id: row.id, error: e.message });
          }
        }
        this.producer ??= this.createProducer();
        try {
          // Split into produce calls that fit the topic's limit (one partition may get many).
          await this.producer.sendEncoded(records);
        } catch (e) {
          await this.dropProducer();
          throw e;
        }
        const marked = await this.markSent(tx, latest);
        for (const r of rejected) {
          // Cannot happen for rows this service wrote (the writer checks the schema); a row put
          // there by hand must not block its user's later snapshots.
          registryMetrics.outboxRejected.inc();
          this.logger.error({
            msg: 'outbox row cannot be published (schema or size); skipped',
            id: r.id,
            err: r.error,
          });
          await tx.query(`UPDATE registry_outbox SET error = $2 WHERE id = $1`, [r.id, r.error]);
        }
        registryMetrics.outboxPublished.inc(records.length);
        registryMetrics.outboxSuperseded.inc(Math.max(0, marked - latest.length));
        return records.length;
      },
      1,
    );
  }

  private async latestOf(
    tx: Tx,
    heads: Array<{ app_id: string; user_id: string }>,
  ): Promise<LatestRow[]> {
    const { rows } = await tx.query<LatestRow>(
      `SELECT DISTINCT ON (o.app_id, o.user_id) o.id, o.app_id, o.user_id, o.version, o.payload,
         o.correlation_id, o.traceparent
       FROM registry_outbox o
       JOIN unnest($1::varchar[], $2::varchar[]) AS c(app_id, user_id)
         ON o.app_id = c.app_id AND o.user_id = c.user_id
       WHERE o.sent_at IS NULL
       ORDER BY o.app_id, o.user_id, o.version DESC`,
      [heads.map((h) => h.app_id), heads.map((h) => h.user_id)],
    );
    return rows;
  }

  private async markSent(tx: Tx, latest: LatestRow[]): Promise<number> {
    const { affected } = await tx.query(
      `UPDATE registry_outbox o SET sent_at = clock_timestamp()
       FROM unnest($1::varchar[], $2::varchar[], $3::bigint[]) AS l(app_id, user_id, version)
       WHERE o.app_id = l.app_id AND o.user_id = l.user_id AND o.sent_at IS NULL
         AND o.version <= l.version`,
      [latest.map((r) => r.app_id), latest.map((r) => r.user_id), latest.map((r) => r.version)],
    );
    return affected;
  }

  /** Deletes published rows past their retention, a bounded number at a time, once a minute. */
  private async pruneIfDue(): Promise<void> {
    if (Date.now() - this.lastPrune < 60000) return;
    this.lastPrune = Date.now();
    await this.dataSource.query(
      `DELETE FROM registry_outbox WHERE id IN (
         SELECT id FROM registry_outbox WHERE sent_at < now() - make_interval(hours => $1)
         LIMIT 10000)`,
      [this.opts.retentionHours],
    );
  }

  private lastCount = 0;

  /**
   * Refreshes the pending gauge after every round, failed ones included (at most once a second):
   * a gauge refreshed only on success would read 0 while rows wait.
   */
  private async countPendingIfDue(): Promise<void> {
    if (Date.now() - this.lastCount < 1000) return;
    this.lastCount = Date.now();
    const [{ n }] = await this.dataSource.query<Array<{ n: string }>>(
      `SELECT count(*) AS n FROM registry_outbox WHERE sent_at IS NULL`,
    );
    registryMetrics.outboxPending.set(Number(n));
  }
}
