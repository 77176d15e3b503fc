import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { ProblemException } from '@app/http';
import { catchError, type Observable } from 'rxjs';
import { isTransientDbError } from './db-errors.util';

/**
 * A database outage answers 503 (the client may retry; nothing was changed: the transaction rolled
 * back) instead of a 500 that reads like a bug. The error is still logged with its id.
 */
@Injectable()
export class DatabaseUnavailableInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      catchError((e: unknown) => {
        if (isTransientDbError(e)) {
          throw new ProblemException(
            503,
            'DATABASE_UNAVAILABLE',
            'the registry database is unavailable; retry later',
          );
        }
        throw e;
      }),
    );
  }
}
