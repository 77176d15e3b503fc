import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { ProblemException } from './problem.exception';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  413: 'BODY_TOO_LARGE',
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
    if (
      exception instanceof ProblemException ||
      (exception instanceof HttpException && exception.getStatus() < 500)
    ) {
      status = exception.getStatus();
      const detail =
        exception instanceof ProblemException ? exception.message : this.detailOf(exception);
      body = {
        type: 'about:blank',
        title: TITLES[status] ?? 'Error',
        status,
        detail,
        code:
          exception instanceof ProblemException
            ? exception.code
            : (CODES[status] ?? `HTTP_${status}`),
        ...(exception instanceof ProblemException && exception.errors
          ? { errors: exception.errors }
          : {}),
      };
    } else if (this.isBodyParserError(exception)) {
      status = exception.status;
      body = {
        type: 'about:blank',
        title: TITLES[status] ?? 'Bad Request',
        status,
        detail:
          exception.type === 'entity.too.large'
            ? 'request body too large'
            : 'request body is not valid JSON',
        code: exception.type === 'entity.too.large' ? 'BODY_TOO_LARGE' : 'INVALID_JSON',
      };
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

  private isBodyParserError(e: unknown): e is { status: number; type: string } {
    return (
      typeof e === 'object' &&
      e !== null &&
      typeof (e as { status?: unknown }).status === 'number' &&
      typeof (e as { type?: unknown }).type === 'string' &&
      ((e as { status: number }).status === 400 || (e as { status: number }).status === 413)
    );
  }
}
