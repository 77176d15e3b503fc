import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigException } from '@app/config';
import { kafkaSecurityOptions, type KafkaClientEnv } from './kafka-client.factory';

const dir = mkdtempSync(join(tmpdir(), 'kafka-client-spec-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const EMPTY = file('empty.pem', '  \n');
const NOT_PEM = file('not.pem', 'hello');
const PASSWORD = file('password', 'secret\n');
const MISSING = join(dir, 'missing.pem');

const env = (over: Partial<KafkaClientEnv>): KafkaClientEnv => ({
  KAFKA_BROKERS: ['127.0.0.1:9092'],
  KAFKA_SSL: false,
  KAFKA_SSL_REJECT_UNAUTHORIZED: true,
  ...over,
});

const problems = (e: KafkaClientEnv): string[] => {
  try {
    kafkaSecurityOptions(e);
  } catch (err) {
    if (err instanceof ConfigException) return err.problems;
    throw err;
  }
  return [];
};

/** [name, settings, every problem, in order] */
const PROBLEMS: Array<[string, Partial<KafkaClientEnv>, string[]]> = [
  [
    'TLS files without KAFKA_SSL',
    { KAFKA_SSL_CA_FILE: NOT_PEM, KAFKA_SSL_KEY_FILE: NOT_PEM },
    [
      'KAFKA_SSL_CA_FILE is set but KAFKA_SSL is not true',
      'KAFKA_SSL_KEY_FILE is set but KAFKA_SSL is not true',
    ],
  ],
  [
    'KAFKA_SSL_REJECT_UNAUTHORIZED=false without KAFKA_SSL',
    { KAFKA_SSL_REJECT_UNAUTHORIZED: false },
    ['KAFKA_SSL_REJECT_UNAUTHORIZED is false but KAFKA_SSL is not true'],
  ],
  [
    'a CA file that cannot be read',
    { KAFKA_SSL: true, KAFKA_SSL_CA_FILE: MISSING },
    [`KAFKA_SSL_CA_FILE: cannot read ${MISSING} (ENOENT)`],
  ],
  [
    'an empty CA file',
    { KAFKA_SSL: true, KAFKA_SSL_CA_FILE: EMPTY },
    [`KAFKA_SSL_CA_FILE: ${EMPTY} is empty`],
  ],
  [
    'a CA file that is not PEM, named without its content',
    { KAFKA_SSL: true, KAFKA_SSL_CA_FILE: NOT_PEM },
    [`KAFKA_SSL_CA_FILE: ${NOT_PEM} is not a PEM certificate`],
  ],
  [
    'a client certificate without its key',
    { KAFKA_SSL: true, KAFKA_SSL_CERT_FILE: NOT_PEM },
    ['KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together (client certificate and its key)'],
  ],
  [
    'a certificate and key that are not PEM',
    { KAFKA_SSL: true, KAFKA_SSL_CERT_FILE: NOT_PEM, KAFKA_SSL_KEY_FILE: NOT_PEM },
    [
      `KAFKA_SSL_CERT_FILE: ${NOT_PEM} is not a PEM certificate`,
      `KAFKA_SSL_KEY_FILE: ${NOT_PEM} is not an unencrypted PEM private key`,
    ],
  ],
  [
    'a SASL mechanism without user or password',
    { KAFKA_SASL_MECHANISM: 'plain' },
    [
      'KAFKA_SASL_USERNAME is required with KAFKA_SASL_MECHANISM',
      'KAFKA_SASL_PASSWORD_FILE is required with KAFKA_SASL_MECHANISM',
    ],
  ],
  [
    'SASL settings without a mechanism',
    { KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD_FILE: PASSWORD },
    [
      'KAFKA_SASL_USERNAME is set but KAFKA_SASL_MECHANISM is not',
      'KAFKA_SASL_PASSWORD_FILE is set but KAFKA_SASL_MECHANISM is not',
    ],
  ],
  [
    'every problem at once, TLS first',
    {
      KAFKA_SSL: true,
      KAFKA_SSL_CA_FILE: EMPTY,
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD_FILE: MISSING,
    },
    [
      `KAFKA_SSL_CA_FILE: ${EMPTY} is empty`,
      `KAFKA_SASL_PASSWORD_FILE: cannot read ${MISSING} (ENOENT)`,
    ],
  ],
];

describe('kafkaSecurityOptions', () => {
  it.each(PROBLEMS)('%s', (_name, over, expected) => {
    expect(problems(env(over))).toEqual(expected);
  });

  it.each([
    ['no TLS, no SASL', {}, { ssl: undefined, sasl: undefined }],
    [
      'TLS without files verifies the broker',
      { KAFKA_SSL: true },
      { ssl: { rejectUnauthorized: true }, sasl: undefined },
    ],
    [
      'SASL with the password file’s trailing newline cut',
      {
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'u',
        KAFKA_SASL_PASSWORD_FILE: PASSWORD,
      },
      { ssl: undefined, sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'secret' } },
    ],
  ] as Array<[string, Partial<KafkaClientEnv>, object]>)('%s', (_name, over, expected) => {
    expect(kafkaSecurityOptions(env(over))).toEqual(expected);
  });
});
