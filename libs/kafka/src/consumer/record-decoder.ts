import { HEADERS, type TopicDefinition } from '@app/contracts';
import { isCorrelationId, isTraceparent, newContext, type RecordContext } from '@app/observability';
import type { KafkaMessage } from 'kafkajs';
import type { DeadLetterReason } from '../dead-letter.util';
import { decodeUtf8, formatZodIssues, headersToStrings } from '../record-codec';
import type { ConsumedRecord } from './consumer.types';

/** A record as its handler gets it, or why it cannot be handed over. */
export type Decoded =
  | { ok: true; record: ConsumedRecord<unknown> }
  | { ok: false; message: KafkaMessage; reason: DeadLetterReason };

export type InvalidRecord = Extract<Decoded, { ok: false }>;

/** What decoding needs of a topic's definition. */
export type DecodedTopic = Pick<TopicDefinition<unknown, unknown>, 'name' | 'cleanup' | 'schema'>;

/**
 * The record's context: its correlation id and trace when well-formed (ids from another producer
 * are carried on only then), else a fresh context that keeps a well-formed trace.
 */
export function recordContext(headers: Record<string, string>): RecordContext {
  const correlationId = headers[HEADERS.correlationId];
  const traceparent = isTraceparent(headers[HEADERS.traceparent])
    ? headers[HEADERS.traceparent]
    : undefined;
  if (isCorrelationId(correlationId)) return { correlationId, traceparent };
  const ctx = newContext();
  return traceparent ? { ...ctx, traceparent } : ctx;
}

type ValueResult = { ok: true; value: unknown } | { ok: false; reason: DeadLetterReason };

const refuse = (code: string, message: string): ValueResult => ({
  ok: false,
  reason: { code, message },
});

/** The value checked against its topic: a keyed tombstone, or UTF-8 JSON its schema accepts. */
function decodeValue(topic: DecodedTopic, value: Buffer | null, key: string | null): ValueResult {
  if (value === null || value.length === 0) {
    if (topic.cleanup === 'compact' && key !== null) return { ok: true, value: null };
    return refuse(
      'EMPTY_VALUE',
      'a null or empty value is only allowed as a keyed tombstone on a compacted topic',
    );
  }
  const text = decodeUtf8(value);
  if (text === undefined) return refuse('INVALID_UTF8', 'the value is not valid UTF-8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return refuse('INVALID_JSON', (e as Error).message);
  }
  const parsed = topic.schema.safeParse(json);
  if (!parsed.success) return refuse('SCHEMA_VIOLATION', formatZodIssues(parsed.error).join('; '));
  return { ok: true, value: parsed.data };
}

/**
 * Turns what kafkajs read into `ConsumedRecord`s: headers as strings, the key as UTF-8 (or null),
 * the record's context, the value validated against its topic's schema. A record that fails says
 * why, with a dead-letter code (UNKNOWN_TOPIC, EMPTY_VALUE, INVALID_UTF8, INVALID_JSON,
 * SCHEMA_VIOLATION).
 */
export class RecordDecoder {
  private readonly topics: Map<string, DecodedTopic>;

  constructor(topics: readonly DecodedTopic[]) {
    this.topics = new Map(topics.map((t) => [t.name, t]));
  }

  decode(topic: string, partition: number, message: KafkaMessage): Decoded {
    const def = this.topics.get(topic);
    if (!def) {
      return {
        ok: false,
        message,
        reason: { code: 'UNKNOWN_TOPIC', message: `no handler for ${topic}` },
      };
    }
    const headers = headersToStrings(message.headers);
    const key = message.key ? (decodeUtf8(message.key) ?? null) : null;
    const context = recordContext(headers);
    const v = decodeValue(def, message.value, key);
    if (!v.ok) return { ok: false, message, reason: v.reason };
    const { offset, timestamp } = message;
    return {
      ok: true,
      record: {
        topic,
        partition,
        offset,
        key,
        headers,
        timestamp,
        context,
        raw: message,
        value: v.value,
      },
    };
  }

  /** A batch split into the records to handle and those to dead-letter (or skip), in order. */
  decodeBatch(
    topic: string,
    partition: number,
    messages: KafkaMessage[],
  ): { valid: ConsumedRecord<unknown>[]; invalid: InvalidRecord[] } {
    const valid: ConsumedRecord<unknown>[] = [];
    const invalid: InvalidRecord[] = [];
    for (const m of messages) {
      const d = this.decode(topic, partition, m);
      if (d.ok) valid.push(d.record);
      else invalid.push(d);
    }
    return { valid, invalid };
  }
}
