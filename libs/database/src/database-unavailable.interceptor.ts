import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { ProblemException } from '@app/http';
import { catchError, type Observable } from 'rxjs';
import { isStatementTimeout, isTransientDbError } from './db-errors';

/**
 * A database outage answers 503 (the client may retry; nothing was changed: the transaction rolled
 * back) instead of a 500 that reads like a bug; so does a statement cancelled by the
 * `statement_timeout` (DATABASE_TIMEOUT). Any other database error becomes a plain error
 * carrying only its message and SQLSTATE: TypeORM's error holds the statement's parameters and
 * PostgreSQL's `detail` may quote a key, either of which can be a device token, and the 500 is logged.
 */
@Injectable()
export class DatabaseUnavailableInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      catchError((e: unknown) => {
        if (isStatementTimeout(e)) {
          throw new ProblemException(
            503,
            'DATABASE_TIMEOUT',
            'the database did not answer in time (DATABASE_STATEMENT_TIMEOUT_MS); nothing was changed, retry later',
            undefined,
            { 'Retry-After': '1' },
          );
        }
        if (isTransientDbError(e)) {
          throw new ProblemException(
            503,
            'DATABASE_UNAVAILABLE',
            'the database is unavailable; retry later',
          );
        }
        const err = e as { parameters?: unknown; message?: unknown; code?: unknown };
        if (err && typeof err === 'object' && 'parameters' in err) {
          throw new Error(`database error ${String(err.code)}: ${String(err.message)}`);
        }
        throw e;
      }),
    );
  }
}
