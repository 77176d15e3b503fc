import { Inject, Logger } from '@nestjs/common';
import { ServiceConfig } from '@app/config';
import { TOPICS, type PushOutcome } from '@app/contracts';
import { isSchemaMissing, isTransientDbError } from '@app/database';
import {
  consumerGroup,
  deadLetterForRecord,
  KafkaConsumer,
  OnBatch,
  RetryableException,
  type ConsumedRecord,
  type HandlerResult,
  type KafkaGroupOptions,
  type OutboundRecord,
} from '@app/kafka';
import type { DeliveryReportsEnv } from '../reports-env.schema';
import { reportsMetrics } from '../reports.metrics';
import { placeOutcome, type OutcomeRow } from './outcome-rows';
import { OutcomeStore } from './outcome.store';
import { retentionWindow } from './partition-days';

export const STORE_GROUP = consumerGroup('delivery-reports-store');

/**
 * The store's consumer group (unless DELIVERY_REPORTS_STORE_CONSUMER=false). Readiness counts it
 * once it runs: the API answers from what is stored without it.
 */
export const storeGroup = (env: DeliveryReportsEnv): KafkaGroupOptions => ({
  group: STORE_GROUP,
  groupId: env.DELIVERY_REPORTS_STORE_GROUP_ID,
  newGroupStart: env.DELIVERY_REPORTS_NEW_GROUP_START,
  readiness: 'running',
});

/**
 * Consumes `push.outcome.v1` into PostgreSQL, a batch at a time (one statement per
 * DELIVERY_REPORTS_INSERT_CHUNK outcomes). Invalid records are dead-lettered by the runner;
 * outcomes the store refuses (a day after the partitions ahead, a NUL) here; outcomes past
 * retention are skipped. A database outage (or a schema not migrated yet) is retried, never
 * dead-lettered, so no outcome is lost while PostgreSQL is away (the partition reports stalled
 * after KAFKA_STALL_AFTER_SECONDS).
 */
@KafkaConsumer()
export class OutcomesConsumer {
  private readonly logger = new Logger(OutcomesConsumer.name);

  constructor(
    private readonly store: OutcomeStore,
    @Inject(ServiceConfig) private readonly config: ServiceConfig<DeliveryReportsEnv>,
  ) {}

  @OnBatch(STORE_GROUP, TOPICS.pushOutcome)
  async handle(records: ConsumedRecord<PushOutcome>[]): Promise<HandlerResult> {
    const env = this.config.env;
    const now = Date.now();
    const window = retentionWindow(
      now,
      env.DELIVERY_REPORTS_RETENTION_DAYS,
      env.DELIVERY_REPORTS_PARTITIONS_AHEAD_DAYS,
    );
    const rows: OutcomeRow[] = [];
    const letters: OutboundRecord[] = [];
    let expired = 0;
    for (const r of records) {
      if (r.value === null) continue; // not a compacted topic: the runner dead-letters empty values
      const placed = placeOutcome(r.value, window);
      if (placed.kind === 'store') rows.push(placed.row);
      else if (placed.kind === 'expired') expired++;
      else {
        this.logger.warn({ msg: 'dead-lettering outcome', offset: r.offset, code: placed.code });
        letters.push(deadLetterForRecord(r, { code: placed.code, message: placed.message }));
      }
    }
    const inserted = await this.storeRows(rows);
    this.count(rows, inserted, expired, letters.length, now);
    return { records: letters };
  }

  private async storeRows(rows: OutcomeRow[]): Promise<number> {
    try {
      return await this.store.store(rows);
    } catch (e) {
      // An outage, or a database the migrations have not reached yet: wait, never dead-letter.
      if (isTransientDbError(e) || isSchemaMissing(e)) {
        throw new RetryableException(`database unavailable: ${(e as Error).message}`, {
          cause: e,
        });
      }
      throw e;
    }
  }

  private count(
    rows: OutcomeRow[],
    inserted: number,
    expired: number,
    refused: number,
    now: number,
  ) {
    const m = reportsMetrics.outcomes;
    if (inserted) m.inc({ result: 'stored' }, inserted);
    if (rows.length - inserted) m.inc({ result: 'duplicate' }, rows.length - inserted);
    if (expired) m.inc({ result: 'expired' }, expired);
    if (refused) m.inc({ result: 'refused' }, refused);
    for (const r of rows) {
      reportsMetrics.storeDelay.observe(Math.max(0, now - Date.parse(r.at)) / 1000);
    }
  }
}
