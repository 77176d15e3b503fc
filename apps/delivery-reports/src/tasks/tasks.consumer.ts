import { TOPICS, type TaskProgress } from '@app/contracts';
import { isSchemaMissing, isTransientDbError } from '@app/database';
import {
  consumerGroup,
  KafkaConsumer,
  OnBatch,
  RetryableException,
  type ConsumedRecord,
  type KafkaGroupOptions,
} from '@app/kafka';
import type { DeliveryReportsEnv } from '../reports-env.schema';
import { TaskStore } from './tasks.store';

export const TASKS_GROUP = consumerGroup('delivery-reports-tasks');

/** Push tasks' progress into the store (with the store consumer; readiness once it runs). */
export const tasksGroup = (env: DeliveryReportsEnv): KafkaGroupOptions => ({
  group: TASKS_GROUP,
  groupId: `${env.DELIVERY_REPORTS_STORE_GROUP_ID}-tasks`,
  readiness: 'running',
});

/**
 * Consumes routing.task-progress.v1 (compacted; read as an input with committed offsets) into
 * `push_tasks`. Tombstones are skipped; a database outage is retried, never dead-lettered.
 */
@KafkaConsumer()
export class TasksConsumer {
  constructor(private readonly store: TaskStore) {}

  @OnBatch(TASKS_GROUP, TOPICS.routingTaskProgress)
  async handle(records: ConsumedRecord<TaskProgress, 'compact'>[]): Promise<void> {
    const values = records.flatMap((r) => (r.value === null ? [] : [r.value]));
    try {
      await this.store.store(values);
    } catch (e) {
      if (isTransientDbError(e) || isSchemaMissing(e)) {
        throw new RetryableException(`database unavailable: ${(e as Error).message}`, {
          cause: e,
        });
      }
      throw e;
    }
  }
}
