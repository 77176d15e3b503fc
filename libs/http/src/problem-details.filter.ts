import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { bodyProblem } from './body-guard';
import { ProblemException } from './problem.exception';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'BODY_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  503: 'UNAVAILABLE',
};

/** Every error leaves as `application/problem+json`; a 500 carries an id that is also logged. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    let status = 500;
    let body: Record<string, unknown>;
    // A body the parser could not read (too large, not JSON, too deep, an unknown or corrupt
    // Content-Encoding…), when no bodyErrorsAsProblems middleware turned it into a problem first.
    const problem = exception instanceof HttpException ? undefined : bodyProblem(exception);
    const known = exception instanceof ProblemException ? exception : problem;
    if (known || (exception instanceof HttpException && exception.getStatus() < 500)) {
      const e = (known ?? exception) as HttpException;
      status = e.getStatus();
      body = {
        type: 'about:blank',
        title: TITLES[status] ?? 'Error',
        status,
        detail: known ? known.message : this.detailOf(e),
        code: known ? known.code : (CODES[status] ?? `HTTP_${status}`),
        ...(known?.errors ? { errors: known.errors } : {}),
      };
      for (const [name, value] of Object.entries(known?.headers ?? {})) res.setHeader(name, value);
    } else {
      status = exception instanceof HttpException ? exception.getStatus() : 500;
      const errorId = randomUUID();
      this.logger.error({
        msg: 'request failed',
        errorId,
        method: req.method,
        url: req.url,
        err: exception,
      });
      body = {
        type: 'about:blank',
        title: TITLES[status] ?? 'Error',
        status,
        code: CODES[status] ?? 'INTERNAL',
        errorId,
      };
    }
    res.status(status).type('application/problem+json').send(JSON.stringify(body));
  }

  private detailOf(e: HttpException): string {
    const r = e.getResponse();
    if (typeof r === 'string') return r;
    const m = (r as { message?: unknown }).message;
    return Array.isArray(m) ? m.join('; ') : typeof m === 'string' ? m : e.message;
  }
}
