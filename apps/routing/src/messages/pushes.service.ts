import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { ServiceConfig } from '@app/config';
import {
  TOPICS,
  userKey,
  type PushTask,
  type PushTaskRequest,
  type TaskControl,
} from '@app/contracts';
import { ProblemException } from '@app/http';
import { MessagesService } from './messages.service';
import {
  encodeOutbound,
  EventProducer,
  outbound,
  partitionOfKey,
  ProducerBusyException,
  RecordTooLargeException,
  type EncodedRecord,
} from '@app/kafka';

/**
 * Push tasks taken over HTTP: one `push.task.v1` record per partition of the decide stage (each
 * with the whole task; a listed audience split by the users' partitions), and stops as one
 * `push.task-control.v1` record per partition. Resolves once Kafka acknowledged every record.
 */
@Injectable()
export class PushesService {
  private readonly logger = new Logger(PushesService.name);
  private readonly partitions: number;

  constructor(
    private readonly producer: EventProducer,
    private readonly messages: MessagesService,
    config: ServiceConfig,
  ) {
    this.partitions = config.env.KAFKA_PARTITIONS;
  }

  async create(appId: string, req: PushTaskRequest, now: Date): Promise<{ taskId: string }> {
    const taskId = randomUUID();
    const records = splitTask(appId, taskId, req, this.partitions, now).map((task) =>
      encodeTask(task),
    );
    // The messages API's caps (count and bytes waiting for Kafka, all apps and per app): a task
    // counts as one request with the bytes of all its records.
    const bytes = records.reduce((n, r) => n + r.bytes, 0);
    const pending = this.messages.pending;
    const refused = pending.admit(appId, bytes);
    if (refused) {
      throw new ProblemException(
        503,
        'BACKPRESSURE',
        `too many requests waiting to be stored (${refused}); retry later`,
        undefined,
        { 'Retry-After': String(pending.limits.retryAfterSeconds) },
      );
    }
    try {
      await this.publish(records);
    } finally {
      pending.release(appId, bytes);
    }
    return { taskId };
  }

  async stop(appId: string, taskId: string, revoke: boolean, now: Date): Promise<void> {
    const records = Array.from({ length: this.partitions }, (_, partition) => {
      const c: TaskControl = {
        appId,
        taskId,
        action: 'stop',
        revoke,
        partition,
        partitions: this.partitions,
        at: now.toISOString(),
      };
      return encodeOutbound(outbound(TOPICS.pushTaskControl, c, { partition }));
    });
    await this.publish(records);
  }

  private async publish(records: EncodedRecord[]): Promise<void> {
    try {
      await this.producer.sendEncoded(records);
    } catch (e) {
      const busy = e instanceof ProducerBusyException;
      if (!busy) this.logger.error({ msg: 'cannot publish push task', err: (e as Error).message });
      throw new ProblemException(
        503,
        busy ? 'BACKPRESSURE' : 'KAFKA_UNAVAILABLE',
        'the push task could not be stored; retry',
        undefined,
        { 'Retry-After': '1' },
      );
    }
  }
}

/** The task's record for each partition; listed users go to their own partition's record only. */
export function splitTask(
  appId: string,
  taskId: string,
  req: PushTaskRequest,
  partitions: number,
  now: Date,
): PushTask[] {
  const base = { appId, taskId, createdAt: now.toISOString(), partitions };
  const rest = {
    offlinePush: req.offlinePush,
    options: req.options,
    from: req.from ?? null,
    fromNickname: req.fromNickname ?? null,
    ttlSeconds: req.ttlSeconds,
  };
  const a = req.audience;
  if (!('userIds' in a)) {
    return Array.from({ length: partitions }, (_, partition) => ({
      ...base,
      records: partitions,
      partition,
      audience: a,
      ...rest,
    }));
  }
  const byPartition = Array.from({ length: partitions }, () => [] as string[]);
  for (const userId of new Set(a.userIds)) {
    byPartition[partitionOfKey(userKey({ appId, userId }), partitions)].push(userId);
  }
  // A partition without listed users gets no record (nothing to walk there).
  const records = byPartition.filter((ids) => ids.length > 0).length;
  return byPartition.flatMap((userIds, partition) =>
    userIds.length ? [{ ...base, records, partition, audience: { userIds }, ...rest }] : [],
  );
}

function encodeTask(task: PushTask): EncodedRecord {
  try {
    return encodeOutbound(outbound(TOPICS.pushTask, task, { partition: task.partition }));
  } catch (e) {
    if (e instanceof RecordTooLargeException) {
      throw new ProblemException(413, 'PUSH_TOO_LARGE', e.message);
    }
    throw e;
  }
}
