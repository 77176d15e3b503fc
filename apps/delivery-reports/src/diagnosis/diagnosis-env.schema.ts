import { envInt } from '@app/config';
import { z } from 'zod';

/** Settings of the support diagnosis (`GET .../users/{userId}/diagnosis`). */
export const DiagnosisEnvSchema = z.object({
  /**
   * How long one diagnosis may wait for Kafka (the user's devices and presence, read from the
   * compacted topics on demand); past it the answer is a 503 `KAFKA_TIMEOUT`.
   */
  DELIVERY_REPORTS_DIAGNOSIS_TIMEOUT_MS: envInt(100, 60000).default(5000),
  /** How many of the user's last outcomes the diagnosis shows. */
  DELIVERY_REPORTS_DIAGNOSIS_OUTCOMES: envInt(1, 100).default(10),
});
export type DiagnosisEnv = z.infer<typeof DiagnosisEnvSchema>;
