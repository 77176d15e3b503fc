import { Module } from '@nestjs/common';
import { TasksController } from './tasks.controller';
import { TaskStore } from './tasks.store';

/** Push tasks' status (issue 16): the progress store and `GET .../pushes/{taskId}`. */
@Module({
  controllers: [TasksController],
  providers: [TaskStore],
  exports: [TaskStore],
})
export class TasksModule {}
