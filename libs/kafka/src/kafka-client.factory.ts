import { Logger } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import type { BaseEnv } from '@app/config';

const levelName = (level: logLevel): 'error' | 'warn' | 'log' | 'debug' => {
  switch (level) {
    case logLevel.ERROR:
    case logLevel.NOTHING:
      return 'error';
    case logLevel.WARN:
      return 'warn';
    case logLevel.INFO:
      return 'log';
    case logLevel.DEBUG:
      return 'debug';
  }
};

/** kafkajs with its logs routed into the service's logger. */
export function createKafkaClient(
  env: BaseEnv,
  clientId: string,
  overrides: Partial<KafkaConfig> = {},
): Kafka {
  const logger = new Logger('kafkajs');
  let sasl: SASLOptions | undefined;
  if (env.KAFKA_SASL_MECHANISM) {
    if (!env.KAFKA_SASL_USERNAME || !env.KAFKA_SASL_PASSWORD_FILE) {
      throw new Error(
        'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD_FILE are required with KAFKA_SASL_MECHANISM',
      );
    }
    const password = readFileSync(env.KAFKA_SASL_PASSWORD_FILE, 'utf8').trim();
    sasl = { mechanism: env.KAFKA_SASL_MECHANISM, username: env.KAFKA_SASL_USERNAME, password };
  }
  const config: KafkaConfig = {
    clientId,
    brokers: env.KAFKA_BROKERS,
    ssl: env.KAFKA_SSL
      ? env.KAFKA_SSL_CA_FILE
        ? { ca: [readFileSync(env.KAFKA_SSL_CA_FILE, 'utf8')] }
        : true
      : undefined,
    sasl,
    connectionTimeout: 3000,
    requestTimeout: 30000,
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 10000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }) => {
        const { message, ...extra } = log;
        logger[levelName(level)]({ msg: message, ...extra });
      },
  };
  return new Kafka({ ...config, ...overrides });
}
