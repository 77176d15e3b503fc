import { Catch, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import type { Observable } from 'rxjs';

/**
 * Hands a handler's error back to the consumer runner as thrown. Without it Nest's
 * `BaseRpcExceptionFilter` turns every error that is not an `RpcException` into "Internal server
 * error", and the runner could no longer tell a `RetryableException` (wait, never dead-letter)
 * from a `PoisonRecordException` (dead-letter the record at once).
 */
@Catch()
export class RethrowToRunner implements RpcExceptionFilter<unknown> {
  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    throw exception;
  }
}
