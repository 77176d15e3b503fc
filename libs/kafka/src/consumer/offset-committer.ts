import type { Logger } from '@nestjs/common';
import { Partitioners, type Consumer, type Kafka, type Producer } from 'kafkajs';
import { splitByBytes, type EncodedRecord, type EventProducer } from '../event.producer';
import { withAdmin } from '../topic.admin';

/**
 * One transactional producer per input partition, its transactional id derived from the
 * partition (`<idPrefix>-<topic>-<partition>`): the instance that takes a partition over fences
 * the one that lost it (kafkajs has no group-metadata fencing).
 */
export class TransactionalProducers {
  private readonly pool = new Map<string, Promise<Producer>>();

  constructor(
    private readonly kafka: Pick<Kafka, 'producer'>,
    private readonly idPrefix: string,
  ) {}

  transactionalId(topic: string, partition: number): string {
    return `${this.idPrefix}-${topic}-${partition}`;
  }

  /** The partition's producer, connected (a producer that fails to connect is not kept). */
  get(topic: string, partition: number): Promise<Producer> {
    const id = this.transactionalId(topic, partition);
    let p = this.pool.get(id);
    if (!p) {
      const producer = this.kafka.producer({
        idempotent: true,
        transactionalId: id,
        maxInFlightRequests: 1,
        transactionTimeout: 60000,
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
      });
      p = producer.connect().then(() => producer);
      p.catch(() => this.pool.delete(id));
      this.pool.set(id, p);
    }
    return p;
  }

  /** Forgets and disconnects the partition's producer (it may be fenced or broken). */
  async drop(topic: string, partition: number): Promise<void> {
    const id = this.transactionalId(topic, partition);
    const p = this.pool.get(id);
    this.pool.delete(id);
    if (p) await p.then((x) => x.disconnect()).catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    const producers = await Promise.allSettled([...this.pool.values()]);
    await Promise.allSettled(
      producers.flatMap((p) => (p.status === 'fulfilled' ? [p.value.disconnect()] : [])),
    );
    this.pool.clear();
  }
}

export interface OffsetCommitterOptions {
  groupId: string;
  transactional?: { idPrefix: string };
  logger: Pick<Logger, 'warn'>;
}

/**
 * Produces a batch's output and commits its offset. Plain: the records first, then the offset (at
 * least once). Transactional: both in one transaction on the input partition's producer; a
 * failed transaction is aborted and its producer dropped, and a failure reported after the
 * coordinator did commit (a lost EndTxn answer) is recognised by the group's committed offset and
 * counts as committed, so the batch is not handled twice. Either way the records go out in calls
 * that fit the topics' size limits, and `onCommit` runs once committed.
 */
export class OffsetCommitter {
  private readonly producers: TransactionalProducers | undefined;

  constructor(
    private readonly kafka: Pick<Kafka, 'producer' | 'admin'>,
    private readonly producer: Pick<EventProducer, 'sendEncoded'>,
    private readonly consumer: Pick<Consumer, 'commitOffsets'>,
    private readonly opts: OffsetCommitterOptions,
  ) {
    if (opts.transactional) {
      this.producers = new TransactionalProducers(kafka, opts.transactional.idPrefix);
    }
  }

  async commit(
    topic: string,
    partition: number,
    offset: string,
    records: EncodedRecord[],
    onCommit: () => void,
  ): Promise<void> {
    if (!this.producers) {
      await this.producer.sendEncoded(records);
      await this.consumer.commitOffsets([{ topic, partition, offset }]);
      onCommit();
      return;
    }
    try {
      await this.commitTransaction(this.producers, topic, partition, offset, records);
      onCommit();
    } catch (e) {
      if (!(await this.isCommitted(topic, partition, offset))) throw e;
      this.opts.logger.warn({ msg: 'commit reported failure but is committed', topic, partition });
      onCommit();
    }
  }

  /**
   * In transactional mode, registering the transactional ids of newly assigned input partitions
   * fences their previous owner and aborts its open transaction (so that restore reads to the end).
   */
  async fence(topics: string[], partitions: number[]): Promise<void> {
    const producers = this.producers;
    if (!producers) return;
    await Promise.all(
      topics.flatMap((topic) =>
        partitions.map(async (p) => {
          const tx = await (await producers.get(topic, p)).transaction();
          await tx.abort();
        }),
      ),
    );
  }

  /** Disconnects the transactional producers. */
  async close(): Promise<void> {
    await this.producers?.closeAll();
  }

  private async commitTransaction(
    producers: TransactionalProducers,
    topic: string,
    partition: number,
    offset: string,
    records: EncodedRecord[],
  ): Promise<void> {
    const tx = await (await producers.get(topic, partition)).transaction();
    try {
      for (const topicMessages of splitByBytes(records)) {
        await tx.sendBatch({ topicMessages, acks: -1 });
      }
      await tx.sendOffsets({
        consumerGroupId: this.opts.groupId,
        topics: [{ topic, partitions: [{ partition, offset }] }],
      });
      await tx.commit();
    } catch (e) {
      await tx.abort().catch(() => undefined);
      // The producer may be fenced or broken: start afresh on the next batch.
      await producers.drop(topic, partition);
      throw e;
    }
  }

  /** Whether the group's committed offset for the partition already reached `offset`. */
  private async isCommitted(topic: string, partition: number, offset: string): Promise<boolean> {
    try {
      return await withAdmin(this.kafka, async (admin) => {
        const [t] = await admin.fetchOffsets({ groupId: this.opts.groupId, topics: [topic] });
        const committed = t?.partitions.find((p) => p.partition === partition)?.offset ?? '-1';
        return BigInt(committed) >= BigInt(offset);
      });
    } catch {
      return false; // unknown: handle again (the transaction retry path)
    }
  }
}
