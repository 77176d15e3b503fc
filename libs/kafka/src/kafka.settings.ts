import type { BaseEnv } from '@app/config';
import { recordLimits } from './record-limits';

/**
 * Process-wide Kafka settings that every producer and consumer of the service follows (set once
 * from the service's environment by `KafkaModule`; tests may set them directly).
 */
export const kafkaSettings = {
  /** A partition failing on one offset this long is reported stalled (KAFKA_STALL_AFTER_SECONDS). */
  stallAfterMs: 60_000,
  /** Dead letters keep device tokens in clear (DEAD_LETTER_KEEP_TOKENS); a hash otherwise. */
  keepTokensInDeadLetters: false,
};

export function configureKafkaSettings(
  env: Pick<
    BaseEnv,
    'KAFKA_MAX_MESSAGE_BYTES' | 'KAFKA_STALL_AFTER_SECONDS' | 'DEAD_LETTER_KEEP_TOKENS'
  >,
): void {
  recordLimits.configure(env.KAFKA_MAX_MESSAGE_BYTES);
  kafkaSettings.stallAfterMs = env.KAFKA_STALL_AFTER_SECONDS * 1000;
  kafkaSettings.keepTokensInDeadLetters = env.DEAD_LETTER_KEEP_TOKENS;
}
