import { HEADERS, type TopicDefinition } from '@app/contracts';
import type { IHeaders, Message } from 'kafkajs';
import type { ZodError } from 'zod';
import { SchemaViolationException } from './kafka.exception';
import { currentContext, newContext, type RecordContext } from '@app/observability';
import { applyTraceparent } from '@app/observability';

export const formatZodIssues = (error: ZodError): string[] =>
  error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(value)'}: ${i.message}`);

/** Validates and serialises one value for its topic. Throws before anything reaches Kafka. */
export function encodeRecord<T>(
  topic: TopicDefinition<T, unknown>,
  value: T | null,
  opts: {
    key?: string;
    partition?: number;
    context?: RecordContext;
    headers?: Record<string, string>;
    prevalidated?: boolean;
  } = {},
): Message {
  let key = opts.key;
  let serialized: string | null = null;
  if (value === null) {
    if (topic.cleanup !== 'compact') {
      throw new SchemaViolationException(topic.name, [
        'a tombstone (null value) needs a compacted topic',
      ]);
    }
    if (key === undefined) {
      throw new SchemaViolationException(topic.name, ['a tombstone needs a key']);
    }
  } else if (opts.prevalidated) {
    key ??= topic.key(value);
    serialized = JSON.stringify(value);
  } else {
    const parsed = topic.schema.safeParse(value);
    if (!parsed.success) {
      throw new SchemaViolationException(topic.name, formatZodIssues(parsed.error));
    }
    key ??= topic.key(parsed.data);
    serialized = JSON.stringify(value);
  }
  const ctx = opts.context ?? currentContext() ?? newContext();
  const headers: IHeaders = {
    [HEADERS.contentType]: 'application/json',
    [HEADERS.eventType]: topic.eventType,
  };
  if (opts.headers) Object.assign(headers, opts.headers);
  // `traceparent`: the context's; with tracing on and no context given, the active span's.
  applyTraceparent(headers, ctx, opts.context !== undefined);
  if (ctx?.correlationId) headers[HEADERS.correlationId] = ctx.correlationId;
  const message: Message = { key, value: serialized, headers };
  if (opts.partition !== undefined) message.partition = opts.partition;
  return message;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes to text, or undefined when they are not valid UTF-8. */
export function decodeUtf8(buf: Buffer): string | undefined {
  try {
    return utf8.decode(buf);
  } catch {
    return undefined;
  }
}

export function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const k in headers) {
    if (!Object.prototype.hasOwnProperty.call(headers, k)) continue;
    const v = headers[k];
    if (v === undefined) continue;
    const first = Array.isArray(v) ? v[0] : v;
    if (first === undefined) continue;
    out[k] = Buffer.isBuffer(first)
      ? (decodeUtf8(first) ?? first.toString('base64'))
      : String(first);
  }
  return out;
}
