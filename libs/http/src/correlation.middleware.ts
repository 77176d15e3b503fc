import { Injectable, type NestMiddleware } from '@nestjs/common';
import { isCorrelationId, isTraceparent, newTraceparent, runWithContext } from '@app/observability';
import type { NextFunction, Request, Response } from 'express';
import { randomUUID } from 'node:crypto';

/** The incoming correlation id if it is one we may log and propagate, else a fresh one. */
export function acceptCorrelationId(incoming: unknown): string {
  return isCorrelationId(incoming) ? incoming : randomUUID();
}

/** The incoming `traceparent` if it is well-formed, else the start of a new trace. */
export function acceptTraceparent(incoming: unknown): string {
  return isTraceparent(incoming) ? incoming : newTraceparent();
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
