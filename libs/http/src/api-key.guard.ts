import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { AppsRegistry } from '@app/config';
import type { Request } from 'express';
import { ProblemException } from './problem.exception';

/**
 * `Authorization: Bearer <api key>`. A key belongs to one app: 401 without a valid key, 403 when
 * the path names another app.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly apps: AppsRegistry) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request & { appId?: string }>();
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match)
      throw new ProblemException(
        401,
        'UNAUTHENTICATED',
        'Authorization: Bearer <api key> is required',
      );
    const appId = this.apps.appForApiKey(match[1]);
    if (!appId) throw new ProblemException(401, 'UNAUTHENTICATED', 'unknown API key');
    const pathApp = req.params?.appId as string | undefined;
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
