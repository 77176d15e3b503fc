import type { HealthIndicatorResult } from '@nestjs/terminus';

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

/** One dependency that `/health/ready` checks. */
export interface ReadinessCheck {
  isReady(): Promise<HealthIndicatorResult>;
}

/** Fails after `ms` so that a hung dependency makes the probe answer 503, not hang. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
