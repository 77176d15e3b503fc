import { Injectable, type NestMiddleware } from '@nestjs/common';
import { newTraceparent, runWithContext } from '@app/observability';
import type { NextFunction, Request, Response } from 'express';
import { randomUUID } from 'node:crypto';

/** W3C trace context: version 00-fe, a non-zero trace id and a non-zero parent id. */
const TRACEPARENT = /^(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/** A correlation id we carry on: 1–128 letters, digits, `_`, `.` or `-` (a UUID fits). */
const CORRELATION_ID = /^[A-Za-z0-9_.-]{1,128}$/;

/** The incoming correlation id if it is one we may log and propagate, else a fresh one. */
export function acceptCorrelationId(incoming: unknown): string {
  return typeof incoming === 'string' && CORRELATION_ID.test(incoming) ? incoming : randomUUID();
}

/** The incoming `traceparent` if it is well-formed, else the start of a new trace. */
export function acceptTraceparent(incoming: unknown): string {
  return typeof incoming === 'string' && TRACEPARENT.test(incoming) ? incoming : newTraceparent();
}

/**
 * Carries `x-correlation-id` and `traceparent` from the request into the Kafka records it causes.
 * Both are checked first: an invalid one (too long, odd characters, repeated) is replaced, never
 * echoed, and the request's own headers are rewritten so that the request log, which reads them
 * later, only ever sees the accepted values.
 */
@Injectable()
export class CorrelationMiddleware implements NestMiddleware {
  use(req: Request, res: Response, next: NextFunction): void {
    const correlationId = acceptCorrelationId(req.headers['x-correlation-id']);
    const traceparent = acceptTraceparent(req.headers.traceparent);
    req.headers['x-correlation-id'] = correlationId;
    req.headers.traceparent = traceparent;
    res.setHeader('x-correlation-id', correlationId);
    runWithContext({ correlationId, traceparent }, next);
  }
}
