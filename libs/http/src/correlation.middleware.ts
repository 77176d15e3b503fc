import { Injectable, type NestMiddleware } from '@nestjs/common';
import { newTraceparent, runWithContext } from '@app/observability';
import type { NextFunction, Request, Response } from 'express';
import { randomUUID } from 'node:crypto';

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** Carries `x-correlation-id` and `traceparent` from the request into the Kafka records it causes. */
@Injectable()
export class CorrelationMiddleware implements NestMiddleware {
  use(req: Request, res: Response, next: NextFunction): void {
    const incoming = req.headers['x-correlation-id'];
    const correlationId =
      typeof incoming === 'string' && /^[\w.-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    const tp = req.headers.traceparent;
    const traceparent = typeof tp === 'string' && TRACEPARENT.test(tp) ? tp : newTraceparent();
    res.setHeader('x-correlation-id', correlationId);
    runWithContext({ correlationId, traceparent }, next);
  }
}
