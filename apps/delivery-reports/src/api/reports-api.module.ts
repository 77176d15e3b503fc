import { Module } from '@nestjs/common';
import { OutcomeQueries } from './outcomes.queries';
import {
  MessageOutcomesController,
  StatsController,
  UserOutcomesController,
} from './reports.controllers';
import { StatsQueries } from './stats.queries';

/** The HTTP API over the stored outcomes and rollups (API keys per app, problem+json errors). */
@Module({
  controllers: [MessageOutcomesController, UserOutcomesController, StatsController],
  providers: [OutcomeQueries, StatsQueries],
})
export class ReportsApiModule {}
