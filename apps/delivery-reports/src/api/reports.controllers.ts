import { Controller, Get, Param, Query, UseGuards, UseInterceptors } from '@nestjs/common';
import { DatabaseUnavailableInterceptor } from '@app/database';
import { ApiKeyGuard, ValidationProblem, ZodPipe } from '@app/http';
import { OutcomeQueries, type OutcomePage } from './outcomes.queries';
import {
  AppPathSchema,
  MessageOutcomesQuerySchema,
  MessagePathSchema,
  StatsQuerySchema,
  UserOutcomesQuerySchema,
  UserPathSchema,
  type AppPath,
  type MessageOutcomesQuery,
  type MessagePath,
  type StatsQuery,
  type UserOutcomesQuery,
  type UserPath,
} from './reports.dto';
import { StatsQueries, type StatsView } from './stats.queries';
import { statsRange } from './stats-range';

/** `GET /v1/apps/{appId}/messages/{messageId}/outcomes`: every recipient device's outcome. */
@Controller('v1/apps/:appId/messages/:messageId/outcomes')
@UseGuards(ApiKeyGuard)
@UseInterceptors(DatabaseUnavailableInterceptor)
export class MessageOutcomesController {
  constructor(private readonly outcomes: OutcomeQueries) {}

  @Get()
  list(
    @Param(new ZodPipe(MessagePathSchema)) path: MessagePath,
    @Query(new ZodPipe(MessageOutcomesQuerySchema)) query: MessageOutcomesQuery,
  ): Promise<OutcomePage> {
    return this.outcomes.ofMessage(path, query);
  }
}

/**
 * A user's reports: `GET .../users/{userId}/outcomes`. The support diagnosis
 * (`GET .../users/{userId}/diagnosis`: devices, presence, muting settings and the last outcomes,
 * with the next message's verdict per device) is beside it, in its own module (src/diagnosis/).
 */
@Controller('v1/apps/:appId/users/:userId')
@UseGuards(ApiKeyGuard)
@UseInterceptors(DatabaseUnavailableInterceptor)
export class UserOutcomesController {
  constructor(private readonly outcomes: OutcomeQueries) {}

  @Get('outcomes')
  list(
    @Param(new ZodPipe(UserPathSchema)) path: UserPath,
    @Query(new ZodPipe(UserOutcomesQuerySchema)) query: UserOutcomesQuery,
  ): Promise<OutcomePage> {
    return this.outcomes.ofUser(path, query);
  }
}

/** `GET /v1/apps/{appId}/stats`: counts and latency per bucket, from the per-minute rollups. */
@Controller('v1/apps/:appId/stats')
@UseGuards(ApiKeyGuard)
@UseInterceptors(DatabaseUnavailableInterceptor)
export class StatsController {
  constructor(private readonly stats: StatsQueries) {}

  @Get()
  get(
    @Param(new ZodPipe(AppPathSchema)) path: AppPath,
    @Query(new ZodPipe(StatsQuerySchema)) query: StatsQuery,
  ): Promise<StatsView> {
    const range = statsRange(query, Date.now());
    if (Array.isArray(range)) throw new ValidationProblem(range);
    return this.stats.stats(path.appId, range, query.groupBy);
  }
}
