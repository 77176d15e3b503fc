import { Controller, Get, Param, Query, UseGuards, UseInterceptors } from '@nestjs/common';
import { AppsRegistry, ServiceConfig } from '@app/config';
import { ConversationKeySchema } from '@app/contracts';
import { DatabaseUnavailableInterceptor } from '@app/database';
import { ApiKeyGuard, ZodPipe } from '@app/http';
import { z } from 'zod';
import { OutcomeQueries } from '../api/outcomes.queries';
import { UserPathSchema, type UserPath } from '../api/reports.dto';
import type { DeliveryReportsEnv } from '../reports-env.schema';
import { DEFAULT_POLICY, diagnose, type Diagnosis } from './diagnosis';
import { DiagnosisReader } from './diagnosis.reader';

export const DiagnosisQuerySchema = z.object({
  conversation: ConversationKeySchema.optional().describe(
    'The conversation of the imagined next message (`c2c:<peerUserId>` or `group:<groupId>`); ' +
      'default: one without a receive option of its own.',
  ),
});
export type DiagnosisQuery = z.infer<typeof DiagnosisQuerySchema>;

/**
 * `GET /v1/apps/{appId}/users/{userId}/diagnosis`: why the user gets pushes or not. Devices and
 * presence come from Kafka (the compacted topics, read on demand), the last outcomes from the
 * store; the verdicts from routing's own rules.
 */
@Controller('v1/apps/:appId/users/:userId')
@UseGuards(ApiKeyGuard)
@UseInterceptors(DatabaseUnavailableInterceptor)
export class DiagnosisController {
  private readonly outcomesShown: number;

  constructor(
    private readonly reader: DiagnosisReader,
    private readonly outcomes: OutcomeQueries,
    private readonly apps: AppsRegistry,
    config: ServiceConfig<DeliveryReportsEnv>,
  ) {
    this.outcomesShown = config.env.DELIVERY_REPORTS_DIAGNOSIS_OUTCOMES;
  }

  @Get('diagnosis')
  async get(
    @Param(new ZodPipe(UserPathSchema)) path: UserPath,
    @Query(new ZodPipe(DiagnosisQuerySchema)) query: DiagnosisQuery,
  ): Promise<Diagnosis> {
    const [records, page] = await Promise.all([
      this.reader.read(path.appId, path.userId),
      this.outcomes.ofUser(path, { limit: this.outcomesShown, cursor: undefined }),
    ]);
    return diagnose({
      appId: path.appId,
      userId: path.userId,
      ...records,
      policy: this.apps.get(path.appId)?.policy ?? DEFAULT_POLICY,
      now: new Date(),
      conversation: query.conversation,
      lastOutcomes: page.items,
    });
  }
}
