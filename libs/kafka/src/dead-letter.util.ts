import { TOPICS, type DeadLetter } from '@app/contracts';
import type { KafkaMessage } from 'kafkajs';
import type { ConsumedRecord } from './consumer.runner';
import { outbound, type OutboundRecord } from './event.producer';
import { decodeUtf8, headersToStrings } from './record-codec';

export interface DeadLetterReason {
  code: string;
  message: string;
}

/** The dead letter for one consumed record: the original bytes kept, the reason named. */
export function deadLetterFor(
  topic: string,
  partition: number,
  message: KafkaMessage,
  reason: DeadLetterReason,
): OutboundRecord {
  const key = message.key ? (decodeUtf8(message.key) ?? message.key.toString('base64')) : null;
  let value: string | null = null;
  let valueEncoding: DeadLetter['valueEncoding'] = 'utf8';
  if (message.value) {
    const text = decodeUtf8(message.value);
    if (text === undefined) {
      value = message.value.toString('base64');
      valueEncoding = 'base64';
    } else value = text;
  }
  const letter: DeadLetter = {
    source: { topic, partition, offset: message.offset, key },
    error: { code: reason.code, message: reason.message.slice(0, 4000) },
    value,
    valueEncoding,
    headers: headersToStrings(message.headers),
    at: new Date().toISOString(),
  };
  return outbound(TOPICS.deadLetter, letter, { key: key ?? undefined });
}

/**
 * The dead letter for a record that passed validation but that its handler (or the provider)
 * refused: its value is kept as the JSON it was read as.
 */
export function deadLetterForRecord(
  rec: ConsumedRecord<unknown>,
  reason: DeadLetterReason,
): OutboundRecord {
  const message = {
    key: rec.key === null ? null : Buffer.from(rec.key),
    value: rec.value === null ? null : Buffer.from(JSON.stringify(rec.value)),
    headers: rec.headers,
    offset: rec.offset,
    timestamp: rec.timestamp,
    attributes: 0,
    size: 0,
  } as unknown as KafkaMessage;
  return deadLetterFor(rec.topic, rec.partition, message, reason);
}
