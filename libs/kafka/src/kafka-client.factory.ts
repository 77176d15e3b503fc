import { Logger } from '@nestjs/common';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import { BaseEnvSchema, ConfigException } from '@app/config';
import type { z } from 'zod';

/**
 * The settings a Kafka client reads: brokers, TLS, SASL. Part of every service's environment;
 * scripts that only talk to Kafka (topic creation) load just these.
 */
export const KafkaClientEnvSchema = BaseEnvSchema.pick({
  KAFKA_BROKERS: true,
  KAFKA_SSL: true,
  KAFKA_SSL_CA_FILE: true,
  KAFKA_SSL_CERT_FILE: true,
  KAFKA_SSL_KEY_FILE: true,
  KAFKA_SSL_REJECT_UNAUTHORIZED: true,
  KAFKA_SASL_MECHANISM: true,
  KAFKA_SASL_USERNAME: true,
  KAFKA_SASL_PASSWORD_FILE: true,
});
export type KafkaClientEnv = z.infer<typeof KafkaClientEnvSchema>;

type FileSetting =
  'KAFKA_SSL_CA_FILE' | 'KAFKA_SSL_CERT_FILE' | 'KAFKA_SSL_KEY_FILE' | 'KAFKA_SASL_PASSWORD_FILE';

/** Reads the files the settings name, collecting every problem (never a file's content). */
function settingFiles(env: KafkaClientEnv) {
  const problems: string[] = [];
  const read = (name: FileSetting): string | undefined => {
    const path = env[name];
    if (!path) return undefined;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'unreadable';
      problems.push(`${name}: cannot read ${path} (${code})`);
      return undefined;
    }
    if (!text.trim()) {
      problems.push(`${name}: ${path} is empty`);
      return undefined;
    }
    return text;
  };
  /** Parses without ever putting the content (or a parser message quoting it) in an error. */
  const check = <T>(name: FileSetting, what: string, parse: () => T): T | undefined => {
    try {
      return parse();
    } catch {
      problems.push(`${name}: ${env[name]} is not ${what}`);
      return undefined;
    }
  };
  return { problems, read, check };
}

type SettingFiles = ReturnType<typeof settingFiles>;

/** TLS: the CA, and the client certificate with its key (both or neither, matching). */
function tlsOptions(env: KafkaClientEnv, files: SettingFiles): ConnectionOptions | undefined {
  const { problems, read, check } = files;
  if (!env.KAFKA_SSL) {
    const tlsFiles = (
      ['KAFKA_SSL_CA_FILE', 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE'] as const
    ).filter((n) => env[n]);
    for (const n of tlsFiles) problems.push(`${n} is set but KAFKA_SSL is not true`);
    if (!env.KAFKA_SSL_REJECT_UNAUTHORIZED) {
      problems.push('KAFKA_SSL_REJECT_UNAUTHORIZED is false but KAFKA_SSL is not true');
    }
    return undefined;
  }
  const ssl: ConnectionOptions = { rejectUnauthorized: env.KAFKA_SSL_REJECT_UNAUTHORIZED };
  const ca = read('KAFKA_SSL_CA_FILE');
  if (ca && check('KAFKA_SSL_CA_FILE', 'a PEM certificate', () => new X509Certificate(ca))) {
    ssl.ca = [ca];
  }
  if (Boolean(env.KAFKA_SSL_CERT_FILE) !== Boolean(env.KAFKA_SSL_KEY_FILE)) {
    problems.push(
      'KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together (client certificate and its key)',
    );
    return ssl;
  }
  const cert = read('KAFKA_SSL_CERT_FILE');
  const key = read('KAFKA_SSL_KEY_FILE');
  const x509 = cert
    ? check('KAFKA_SSL_CERT_FILE', 'a PEM certificate', () => new X509Certificate(cert))
    : undefined;
  const keyObject: KeyObject | undefined = key
    ? check('KAFKA_SSL_KEY_FILE', 'an unencrypted PEM private key', () => createPrivateKey(key))
    : undefined;
  if (x509 && keyObject) {
    if (x509.checkPrivateKey(keyObject)) Object.assign(ssl, { cert, key });
    else problems.push('KAFKA_SSL_KEY_FILE is not the key of KAFKA_SSL_CERT_FILE');
  }
  return ssl;
}

/** SASL: the mechanism, the user name and the password file go together. */
function saslOptions(env: KafkaClientEnv, files: SettingFiles): SASLOptions | undefined {
  const { problems, read } = files;
  if (!env.KAFKA_SASL_MECHANISM) {
    for (const n of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD_FILE'] as const) {
      if (env[n]) problems.push(`${n} is set but KAFKA_SASL_MECHANISM is not`);
    }
    return undefined;
  }
  if (!env.KAFKA_SASL_USERNAME) {
    problems.push(`KAFKA_SASL_USERNAME is required with KAFKA_SASL_MECHANISM`);
  }
  if (!env.KAFKA_SASL_PASSWORD_FILE) {
    problems.push(`KAFKA_SASL_PASSWORD_FILE is required with KAFKA_SASL_MECHANISM`);
  }
  // A trailing newline (echo, most editors) is not part of the password.
  const password = read('KAFKA_SASL_PASSWORD_FILE')?.replace(/[\r\n]+$/, '');
  if (!env.KAFKA_SASL_USERNAME || !password) return undefined;
  return { mechanism: env.KAFKA_SASL_MECHANISM, username: env.KAFKA_SASL_USERNAME, password };
}

/**
 * TLS and SASL options for kafkajs from the settings, with the files read and checked: every
 * problem at once in a `ConfigException` naming the settings (and file paths), never a file's
 * content. The password is only ever handed to kafkajs.
 */
export function kafkaSecurityOptions(env: KafkaClientEnv): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const files = settingFiles(env);
  const ssl = tlsOptions(env, files);
  const sasl = saslOptions(env, files);
  if (files.problems.length) throw new ConfigException(files.problems);
  return { ssl, sasl };
}

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

/**
 * Every Kafka client of the services and scripts is made here: brokers, TLS and SASL from the
 * settings (`kafkaSecurityOptions`), kafkajs logs routed into the service's logger.
 */
export function createKafkaClient(
  env: KafkaClientEnv,
  clientId: string,
  overrides: Partial<KafkaConfig> = {},
): Kafka {
  const logger = new Logger('kafkajs');
  const { ssl, sasl } = kafkaSecurityOptions(env);
  if (env.KAFKA_SSL && !env.KAFKA_SSL_REJECT_UNAUTHORIZED) {
    logger.warn(
      'KAFKA_SSL_REJECT_UNAUTHORIZED=false: broker certificates are not verified (tests only)',
    );
  }
  const config: KafkaConfig = {
    clientId,
    brokers: env.KAFKA_BROKERS,
    ssl,
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
