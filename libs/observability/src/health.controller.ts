import { Controller, Get, HttpException, Inject, Res } from '@nestjs/common';
import { HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import type { Response } from 'express';
import { READINESS_CHECKS, type ReadinessCheck } from './readiness-check';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    @Inject(READINESS_CHECKS) private readonly checks: ReadinessCheck[],
  ) {}

  /** The process answers: nothing external is checked, so a broker outage never restarts pods. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** 200 when every dependency answers; 503 with the failing dependency named under `error`. */
  @Get('ready')
  async ready(@Res({ passthrough: true }) res: Response): Promise<HealthCheckResult> {
    res.setHeader('cache-control', 'no-store');
    try {
      return await this.health.check(this.checks.map((c) => () => c.isReady()));
    } catch (e) {
      if (e instanceof HttpException && e.getStatus() === 503) {
        res.status(503);
        return e.getResponse() as HealthCheckResult;
      }
      throw e;
    }
  }
}
