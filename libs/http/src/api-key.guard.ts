import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { AppsRegistry } from '@app/config';
import { IdSchema } from '@app/contracts';
import type { Request } from 'express';
import { ProblemException, ValidationProblem } from './problem.exception';

/**
 * `Authorization: Bearer <api key>`. A key belongs to one app: 401 without a valid key, 400 naming
 * `appId` when the path's app id breaks the id rules (a 20,000-character id is a bad request, not
 * another tenant's), 403 when the path names another app.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly apps: AppsRegistry) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request & { appId?: string }>();
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      throw new ProblemException(
        401,
        'UNAUTHENTICATED',
        'Authorization: Bearer <api key> is required',
      );
    }
    const appId = this.apps.appForApiKey(match[1]);
    if (!appId) throw new ProblemException(401, 'UNAUTHENTICATED', 'unknown API key');
    const pathApp = req.params?.appId as string | undefined;
    if (pathApp !== undefined && !IdSchema.safeParse(pathApp).success) {
      throw new ValidationProblem([
        { field: 'appId', message: 'an app id: 1–128 characters without ":" or white space' },
      ]);
    }
    if (pathApp !== undefined && pathApp !== appId) {
      throw new ProblemException(
        403,
        'FORBIDDEN',
        `this API key does not grant access to app ${pathApp}`,
      );
    }
    req.appId = appId;
    return true;
  }
}
