import { z } from 'zod';
import { envBoolean, envInt } from './load-env.util';

/** Settings every service reads. Service-specific schemas extend this one. */
export const BaseEnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
  HTTP_HOST: z.string().default('0.0.0.0'),
  HTTP_PORT: envInt(1, 65535).optional(),
  KAFKA_BROKERS: z
    .string()
    .min(1)
    .transform((s) =>
      s
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
    ),
  KAFKA_CLIENT_ID: z.string().optional(),
  /** TLS to the brokers. The files below are read (and checked) when the Kafka client is made. */
  KAFKA_SSL: envBoolean.default(false),
  /** PEM CA certificate(s) the brokers' certificates chain to, when not a public CA. */
  KAFKA_SSL_CA_FILE: z.string().optional(),
  /** PEM client certificate (mutual TLS), with KAFKA_SSL_KEY_FILE. */
  KAFKA_SSL_CERT_FILE: z.string().optional(),
  /** PEM private key (unencrypted) of KAFKA_SSL_CERT_FILE. */
  KAFKA_SSL_KEY_FILE: z.string().optional(),
  /** false accepts any broker certificate: for tests only, never in production. */
  KAFKA_SSL_REJECT_UNAUTHORIZED: envBoolean.default(true),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  /** A file holding the SASL password (a Kubernetes Secret), never the password itself. */
  KAFKA_SASL_PASSWORD_FILE: z.string().optional(),
  /**
   * The broker's record size limit (message.max.bytes) assumed for every topic whose contract sets
   * no `max.message.bytes` of its own; the topics' own setting, read at boot, wins when readable.
   */
  KAFKA_MAX_MESSAGE_BYTES: envInt(1024, 100 * 1024 * 1024).default(1048576),
  /**
   * A partition whose consumer has been retrying the same offset this long is reported stalled:
   * readiness 503 naming the group and partition, a gauge, an error log.
   */
  KAFKA_STALL_AFTER_SECONDS: envInt(5, 86400).default(60),
  /** Dead letters keep device tokens in clear instead of a hash (for a replay that needs them). */
  DEAD_LETTER_KEEP_TOKENS: envBoolean.default(false),
  KAFKA_PARTITIONS: envInt(1, 10000).default(12),
  KAFKA_REPLICATION_FACTOR: envInt(1, 10).default(1),
  PUSH_APPS_FILE: z.string().min(1),
  SHUTDOWN_TIMEOUT_MS: envInt(1000, 600000).default(25000),
  /** Unique per process: pod name in Kubernetes; used in client and transactional ids. */
  INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/)
    .optional(),
});
export type BaseEnv = z.infer<typeof BaseEnvSchema>;
