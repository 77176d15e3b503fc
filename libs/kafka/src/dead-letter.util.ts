import { createHash } from 'node:crypto';
import { TOPICS, type DeadLetter } from '@app/contracts';
import type { KafkaMessage } from 'kafkajs';
import type { AnyRecord } from './consumer/consumer.types';
import { outbound, type OutboundRecord } from './event.producer';
import { decodeUtf8, headersToStrings } from './record-codec';
import { recordLimits } from './record-limits';
import { kafkaSettings } from './kafka.settings';
import { countDeadLetter } from './kafka.metrics';

export interface DeadLetterReason {
  code: string;
  message: string;
}

/** Topics whose values hold device tokens: their dead letters hash them (unless kept). */
const TOKEN_TOPICS: ReadonlySet<string> = new Set([
  TOPICS.apnsRequest.name,
  TOPICS.apnsRetry.name,
  TOPICS.fcmRequest.name,
  TOPICS.fcmRetry.name,
  TOPICS.tokenInvalidated.name,
  TOPICS.tokenUserDevices.name,
]);

const MAX_KEY_CHARS = 1024;
const MAX_HEADER_CHARS = 1024;
const MAX_HEADERS = 32;
const MAX_REASON_CHARS = 4000;
/** Room for the dead letter's own Kafka headers (content type, event type, correlation, trace). */
const OWN_HEADERS_BYTES = 1024;

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** `sha256:<16 hex>`: the same token always gives the same text, so letters can be correlated. */
export const redactToken = (token: string): string => `sha256:${sha256(token).slice(0, 16)}`;

/** Replaces every string property named `token` (at any depth) by its hash. */
function redactTokens(v: unknown): boolean {
  let changed = false;
  const walk = (x: unknown) => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      for (const [k, val] of Object.entries(o)) {
        if (k === 'token' && typeof val === 'string') {
          o[k] = redactToken(val);
          changed = true;
        } else walk(val);
      }
    }
  };
  walk(v);
  return changed;
}

/** Headers cut to a bounded count and length (a record's headers can be as large as the record). */
function boundedHeaders(headers: KafkaMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  let n = 0;
  for (const [k, v] of Object.entries(headersToStrings(headers))) {
    if (n++ >= MAX_HEADERS) break;
    out[k.slice(0, 256)] = v.slice(0, MAX_HEADER_CHARS);
  }
  return out;
}

/**
 * The dead letter for one consumed record: the original bytes kept (UTF-8 text, or base64), the
 * reason named. It always fits the dead letter topic: a value too large to embed whole is cut,
 * with `truncated`, the original size and its SHA-256. Device tokens are hashed unless
 * DEAD_LETTER_KEEP_TOKENS is set.
 */
export function deadLetterFor(
  topic: string,
  partition: number,
  message: KafkaMessage,
  reason: DeadLetterReason,
): OutboundRecord {
  const rawKey = message.key ? (decodeUtf8(message.key) ?? message.key.toString('base64')) : null;
  const key = rawKey === null ? null : rawKey.slice(0, MAX_KEY_CHARS);
  const letter: DeadLetter = {
    source: { topic, partition, offset: message.offset, key },
    error: { code: reason.code, message: reason.message.slice(0, MAX_REASON_CHARS) },
    value: null,
    valueEncoding: 'utf8',
    headers: boundedHeaders(message.headers),
    at: new Date().toISOString(),
  };
  let bytes = message.value ?? null;
  if (bytes && TOKEN_TOPICS.has(topic) && !kafkaSettings.keepTokensInDeadLetters) {
    const text = decodeUtf8(bytes);
    try {
      const parsed: unknown = text === undefined ? undefined : JSON.parse(text);
      if (parsed !== undefined && redactTokens(parsed)) {
        letter.redacted = true;
        letter.originalBytes = bytes.length;
        letter.sha256 = sha256(bytes);
        bytes = Buffer.from(JSON.stringify(parsed));
      }
    } catch {
      // Not JSON: no token can be found in it; kept as it is.
    }
  }
  if (bytes) embedValue(letter, bytes);
  countDeadLetter(topic, reason.code); // metrics only: push_kafka_dead_letters_total
  return outbound(TOPICS.deadLetter, letter, { key: key ?? undefined });
}

/** Puts the value in the letter as text, else base64, else its first bytes in base64. */
function embedValue(letter: DeadLetter, bytes: Buffer): void {
  const envelope =
    Buffer.byteLength(JSON.stringify({ ...letter, value: '' }), 'utf8') +
    Buffer.byteLength(letter.source.key ?? '', 'utf8') +
    OWN_HEADERS_BYTES +
    200; // truncated, originalBytes and sha256, if added below
  const room = recordLimits.batchBudget(TOPICS.deadLetter) - envelope;
  const text = decodeUtf8(bytes);
  // JSON escaping can make text up to six times longer (control characters become \u00XX).
  if (text !== undefined && Buffer.byteLength(JSON.stringify(text), 'utf8') <= room) {
    letter.value = text;
    letter.valueEncoding = 'utf8';
    return;
  }
  letter.valueEncoding = 'base64';
  if (Math.ceil(bytes.length / 3) * 4 <= room) {
    letter.value = bytes.toString('base64');
    return;
  }
  const keep = Math.max(0, Math.floor(room / 4) * 3);
  letter.value = bytes.subarray(0, keep).toString('base64');
  letter.truncated = true;
  letter.originalBytes ??= bytes.length;
  letter.sha256 ??= sha256(bytes);
}

/**
 * The dead letter for a record that passed validation but that its handler (or the provider)
 * refused: the original bytes as read from Kafka (re-serialised only for a record built without
 * them, e.g. in a unit test).
 */
export function deadLetterForRecord(rec: AnyRecord, reason: DeadLetterReason): OutboundRecord {
  const message =
    rec.raw ??
    ({
      key: rec.key === null ? null : Buffer.from(rec.key),
      value: rec.value === null ? null : Buffer.from(JSON.stringify(rec.value)),
      headers: rec.headers,
      offset: rec.offset,
      timestamp: rec.timestamp,
      attributes: 0,
      size: 0,
    } as unknown as KafkaMessage);
  return deadLetterFor(rec.topic, rec.partition, message, reason);
}
