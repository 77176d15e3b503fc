import type { KafkaOptions } from '@nestjs/microservices';
import { Partitioners } from 'kafkajs';

/** The injection token of the Kafka client. */
export const IM_KAFKA = 'IM_KAFKA';

export interface UpstreamSettings {
  brokers: string[];
  /** Nest appends `-client`. */
  clientId?: string;
}

/** The ClientKafka settings an upstream must get right (docs/upstream.md); each says why. */
export function imKafkaOptions(settings: UpstreamSettings): NonNullable<KafkaOptions['options']> {
  return {
    client: { clientId: settings.clientId ?? 'chat-upstream', brokers: settings.brokers },
    // Emit only: without it ClientKafka also joins a consumer group (`<groupId>-client`) to wait
    // for replies that events never get.
    producerOnlyMode: true,
    producer: {
      // Java-compatible murmur2 of the key, the platform's own partitioner: a key lands on the
      // same partition number as the platform's records with that key. (It is also kafkajs 2's
      // default; naming it keeps it from changing with a kafkajs upgrade and silences kafkajs's
      // "switched default partitioner" warning. LegacyPartitioner would break co-partitioning.)
      createPartitioner: Partitioners.DefaultPartitioner,
      // The broker drops what the producer's own retries would duplicate; with one request in
      // flight the records of a key stay in the order they were emitted.
      idempotent: true,
      maxInFlightRequests: 1,
      // The platform's topics exist (with KAFKA_PARTITIONS partitions): never create one by
      // mistake with the broker's default count.
      allowAutoTopicCreation: false,
    },
    // acks=all (what an idempotent producer needs); no compression: the platform reads with
    // kafkajs, which implements only gzip.
    send: { acks: -1 },
  };
}
