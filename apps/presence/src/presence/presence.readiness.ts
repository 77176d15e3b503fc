import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { ReadinessCheck } from '@app/observability';
import { PresenceConsumer } from './presence.consumer';

/** Not ready until the state of every assigned partition is read back from the changelog. */
@Injectable()
export class PresenceReadiness implements ReadinessCheck {
  constructor(
    private readonly consumer: PresenceConsumer,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async isReady(): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check('presence');
    return this.consumer.isRestored()
      ? indicator.up()
      : indicator.down({ message: 'restoring state' });
  }
}
