import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { ReadinessCheck } from '@app/observability';
import { RoutingStages } from './routing.stages';

/** Not ready while a stage is still reading its state (group members, presence, tokens, badges). */
@Injectable()
export class RoutingStateHealthIndicator implements ReadinessCheck {
  constructor(
    private readonly stages: RoutingStages,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async isReady(): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check('routingState');
    return this.stages.isRestored()
      ? indicator.up()
      : indicator.down({ message: 'restoring state from the compacted topics' });
  }
}
