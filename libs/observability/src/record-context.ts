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
