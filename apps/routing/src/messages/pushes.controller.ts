import {
  Body,
  Controller,
  Delete,
  HttpCode,
  Param,
  Post,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { Response } from 'express';
import { z } from 'zod';
import { ApiKeyGuard, ValidationProblem } from '@app/http';
import { parsePushBody } from './push-body.util';
import { PushesService } from './pushes.service';

const TaskIdSchema = z.uuid();

/**
 * `POST /v1/apps/{appId}/pushes`: a push task (its own content, an audience of listed users, all
 * users, tags or attributes). `DELETE .../pushes/{taskId}[?revoke=true]`: stop it (and revoke
 * what it sent). Its status is served by delivery-reports (`GET .../pushes/{taskId}`).
 */
@Controller('v1/apps/:appId/pushes')
@UseGuards(ApiKeyGuard)
export class PushesController {
  constructor(private readonly pushes: PushesService) {}

  @Post()
  @HttpCode(202)
  async create(
    @Param('appId') appId: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ taskId: string; status: 'accepted' }> {
    const now = new Date();
    const { taskId } = await this.pushes.create(appId, parsePushBody(body, now), now);
    res.setHeader('Location', `/v1/apps/${encodeURIComponent(appId)}/pushes/${taskId}`);
    return { taskId, status: 'accepted' };
  }

  @Delete(':taskId')
  @HttpCode(202)
  async stop(
    @Param('appId') appId: string,
    @Param('taskId') taskId: string,
    @Query('revoke') revoke: string | undefined,
  ): Promise<{ taskId: string; status: 'stopping' }> {
    const problems = [];
    if (!TaskIdSchema.safeParse(taskId).success) {
      problems.push({ field: 'taskId', message: 'a task id (UUID)' });
    }
    if (revoke !== undefined && revoke !== 'true' && revoke !== 'false') {
      problems.push({ field: 'revoke', message: 'true or false' });
    }
    if (problems.length) throw new ValidationProblem(problems);
    await this.pushes.stop(appId, taskId, revoke === 'true', new Date());
    return { taskId, status: 'stopping' };
  }
}
