import { Controller, Get, Param, UseGuards, UseInterceptors } from '@nestjs/common';
import { z } from 'zod';
import { DatabaseUnavailableInterceptor } from '@app/database';
import { ApiKeyGuard, ProblemException, ZodPipe } from '@app/http';
import { AppPathSchema } from '../api/reports.dto';
import { taskStatus, type TaskStatus } from './task-status';
import { TaskStore } from './tasks.store';

const TaskPathSchema = AppPathSchema.extend({ taskId: z.uuid() });
type TaskPath = z.infer<typeof TaskPathSchema>;

/** `GET /v1/apps/{appId}/pushes/{taskId}`: a push task's state and counts. */
@Controller('v1/apps/:appId/pushes/:taskId')
@UseGuards(ApiKeyGuard)
@UseInterceptors(DatabaseUnavailableInterceptor)
export class TasksController {
  constructor(private readonly store: TaskStore) {}

  @Get()
  async get(@Param(new ZodPipe(TaskPathSchema)) path: TaskPath): Promise<TaskStatus> {
    const rows = await this.store.partitionsOf(path.appId, path.taskId);
    if (!rows.length) {
      throw new ProblemException(
        404,
        'TASK_NOT_FOUND',
        `no progress of push task ${path.taskId} yet (unknown, or not read by routing yet)`,
      );
    }
    const counts = await this.store.outcomeCounts(path.appId, path.taskId);
    return taskStatus(path.taskId, rows, counts);
  }
}
