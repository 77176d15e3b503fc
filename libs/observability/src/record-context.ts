import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes, randomUUID } from 'node:crypto';

/** What follows a unit of work from an HTTP request into Kafka headers and back out. */
export interface RecordContext {
  correlationId: string;
  traceparent?: string;
}

const storage = new AsyncLocalStorage<RecordContext>();

export const runWithContext = <T>(ctx: RecordContext, fn: () => T): T => storage.run(ctx, fn);
export const currentContext = (): RecordContext | undefined => storage.getStore();

/** A W3C traceparent for a new trace, when none came in. */
export const newTraceparent = (): string =>
  `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;

export const newContext = (): RecordContext => ({
  correlationId: randomUUID(),
  traceparent: newTraceparent(),
});

/** W3C trace context: version 00-fe, a non-zero trace id and a non-zero parent id. */
const TRACEPARENT = /^(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/** A correlation id we carry on: 1–128 letters, digits, `_`, `.` or `-` (a UUID fits). */
const CORRELATION_ID = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * Whether ids that came from outside (an HTTP header, a Kafka header of another producer) may be
 * logged and carried on; an invalid one is replaced, never echoed.
 */
export const isCorrelationId = (v: unknown): v is string =>
  typeof v === 'string' && CORRELATION_ID.test(v);
export const isTraceparent = (v: unknown): v is string =>
  typeof v === 'string' && TRACEPARENT.test(v);
