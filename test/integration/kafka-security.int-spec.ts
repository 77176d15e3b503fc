import { ConfigException, loadEnv } from '@app/config';
import {
  ConsumerRunner,
  createKafkaClient,
  EventProducer,
  KafkaClientEnvSchema,
  outbound,
  type ConsumedRecord,
} from '@app/kafka';
import {
  createTestTopic,
  startSecureBroker,
  uniqueId,
  waitFor,
  type SecureBroker,
} from '@app/testing';
import type { KafkaConfig } from 'kafkajs';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';

const Ping = z.object({ userId: z.string(), n: z.number().int() });
type Ping = z.infer<typeof Ping>;

/** Ports 19520..19524 (see startSecureBroker). */
const BASE_PORT = 19520;
const USER = { name: 'pushsvc', password: randomBytes(12).toString('hex') };
const without = (vars: Record<string, string>, ...names: string[]): Record<string, string> =>
  Object.fromEntries(Object.entries(vars).filter(([k]) => !names.includes(k)));
const quiet: Partial<KafkaConfig> = { logCreator: () => () => undefined };
/** Failures to connect are retried by default; a test of one wants the first error. */
const once: Partial<KafkaConfig> = { ...quiet, retry: { retries: 0 }, connectionTimeout: 3000 };

describe('Kafka TLS and SASL settings against a secured local broker', () => {
  let broker: SecureBroker;
  let dir: string;
  let passwordFile: string;
  let wrongPasswordFile: string;

  /** The settings as a service reads them: strings from the environment, checked by the schema. */
  const client = (vars: Record<string, string>, overrides: Partial<KafkaConfig> = quiet) =>
    createKafkaClient(loadEnv(KafkaClientEnvSchema, vars), uniqueId('sec'), overrides);

  const scram = (brokers: string, file = passwordFile) => ({
    KAFKA_BROKERS: brokers,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: USER.name,
    KAFKA_SASL_PASSWORD_FILE: file,
  });
  const mtls = () => ({
    KAFKA_BROKERS: broker.listeners.ssl,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: broker.tls.caFile,
    KAFKA_SSL_CERT_FILE: broker.tls.clientCertFile,
    KAFKA_SSL_KEY_FILE: broker.tls.clientKeyFile,
  });

  /** Admin creates a topic, EventProducer sends, ConsumerRunner consumes: all through `kafka`. */
  async function roundTrip(kafka: ReturnType<typeof createKafkaClient>): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    const producer = new EventProducer(kafka);
    let runner: ConsumerRunner | undefined;
    try {
      const topic = await createTestTopic(admin, Ping, { key: (v) => v.userId, partitions: 2 });
      const seen: number[] = [];
      runner = new ConsumerRunner(kafka, producer, {
        groupId: uniqueId('group'),
        maxWaitTimeInMs: 500,
        subscriptions: [
          {
            topic,
            handle: async (rs: ConsumedRecord<Ping>[]) =>
              void seen.push(...rs.map((r) => r.value.n)),
          },
        ],
      });
      await runner.start();
      await producer.send([1, 2, 3].map((n) => outbound(topic, { userId: `u${n}`, n })));
      await waitFor(() => seen.length >= 3, { what: 'the 3 records consumed' });
      expect(seen.sort()).toEqual([1, 2, 3]);
    } finally {
      await runner?.stop();
      await producer.disconnect();
      await admin.disconnect();
    }
  }

  beforeAll(async () => {
    broker = await startSecureBroker({ basePort: BASE_PORT, users: [USER] });
    dir = mkdtempSync(join(tmpdir(), 'kafka-sec-'));
    passwordFile = join(dir, 'password');
    // As `echo … > file` writes it: the trailing newline is not part of the password.
    writeFileSync(passwordFile, `${USER.password}\n`, { mode: 0o600 });
    wrongPasswordFile = join(dir, 'wrong-password');
    writeFileSync(wrongPasswordFile, 'not-the-password', { mode: 0o600 });
  }, 90_000);

  afterAll(async () => {
    await broker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('SCRAM-SHA-512 with the password from a file: admin, EventProducer and ConsumerRunner work', async () => {
    await roundTrip(client(scram(broker.listeners.saslPlaintext)));
  });

  it('a wrong password fails at once with an authentication error', async () => {
    const admin = client(scram(broker.listeners.saslPlaintext, wrongPasswordFile)).admin();
    const started = Date.now();
    // kafkajs does not retry authentication failures: the default retry settings apply here.
    await expect(admin.connect()).rejects.toMatchObject({
      name: 'KafkaJSSASLAuthenticationError',
      message: expect.stringMatching(/SCRAM SHA512 authentication failed/) as unknown,
    });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('without SASL settings the SCRAM listener refuses the client', async () => {
    const admin = client({ KAFKA_BROKERS: broker.listeners.saslPlaintext }, once).admin();
    // The broker answers ApiVersions before authentication, then closes on anything else.
    try {
      await expect(admin.connect().then(() => admin.listTopics())).rejects.toThrow(
        /Closed connection/,
      );
    } finally {
      await admin.disconnect();
    }
  });

  it('mutual TLS: CA, client certificate and key from files; admin, EventProducer and ConsumerRunner work', async () => {
    await roundTrip(client(mtls()));
  });

  it('TLS without the client certificate is refused by a broker that requires one', async () => {
    const noCert = without(mtls(), 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE');
    const admin = client(noCert, once).admin();
    // The broker's TLS alert: bad_certificate (or certificate_required).
    await expect(admin.connect()).rejects.toThrow(/certificate/i);
  });

  it('TLS without the private CA fails verification; KAFKA_SSL_REJECT_UNAUTHORIZED=false skips it', async () => {
    const noCa = without(mtls(), 'KAFKA_SSL_CA_FILE');
    const strict = client(noCa, once).admin();
    await expect(strict.connect()).rejects.toThrow(/self-signed certificate/);
    const lax = client({ ...noCa, KAFKA_SSL_REJECT_UNAUTHORIZED: 'false' }, once).admin();
    await lax.connect();
    try {
      expect((await lax.describeCluster()).brokers).toHaveLength(1);
    } finally {
      await lax.disconnect();
    }
  });

  it('SCRAM over TLS (SASL_SSL) with the CA from a file', async () => {
    const kafka = client({
      ...scram(broker.listeners.saslSsl),
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: broker.tls.caFile,
    });
    const admin = kafka.admin();
    await admin.connect();
    const producer = new EventProducer(kafka);
    try {
      const topic = await createTestTopic(admin, Ping, { key: (v) => v.userId });
      await producer.send([outbound(topic, { userId: 'u1', n: 1 })]);
      const offsets = await admin.fetchTopicOffsets(topic.name);
      expect(offsets.map((p) => p.high)).toEqual(['1']);
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  describe('configuration errors name the setting and never show a secret', () => {
    const problems = (vars: Record<string, string>): string => {
      try {
        client(vars);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigException);
        return (e as Error).message;
      }
      throw new Error('no ConfigException');
    };

    it('a missing file names its setting and the path', () => {
      const missing = join(dir, 'absent.pem');
      const msg = problems({ ...mtls(), KAFKA_SSL_CA_FILE: missing });
      expect(msg).toContain(`KAFKA_SSL_CA_FILE: cannot read ${missing} (ENOENT)`);
      expect(problems(scram('127.0.0.1:1', missing))).toContain(
        `KAFKA_SASL_PASSWORD_FILE: cannot read ${missing} (ENOENT)`,
      );
    });

    it('a secret in the wrong setting is reported without its content', () => {
      const key = readFileSync(broker.tls.clientKeyFile, 'utf8');
      const msg = problems({
        ...mtls(),
        KAFKA_SSL_CA_FILE: passwordFile,
        KAFKA_SSL_CERT_FILE: broker.tls.clientKeyFile,
      });
      expect(msg).toContain(`KAFKA_SSL_CA_FILE: ${passwordFile} is not a PEM certificate`);
      expect(msg).toContain(
        `KAFKA_SSL_CERT_FILE: ${broker.tls.clientKeyFile} is not a PEM certificate`,
      );
      expect(msg).not.toContain(USER.password);
      expect(msg).not.toContain(key.split('\n')[1]);
    });

    it('a key that is not the certificate’s, half a client certificate, settings without their switch', () => {
      expect(
        problems({ ...mtls(), KAFKA_SSL_KEY_FILE: join(dirname(broker.tls.caFile), 'server.key') }),
      ).toContain('KAFKA_SSL_KEY_FILE is not the key of KAFKA_SSL_CERT_FILE');
      const certOnly = without(mtls(), 'KAFKA_SSL_KEY_FILE');
      expect(problems(certOnly)).toContain(
        'KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together',
      );
      const noSwitch = without(mtls(), 'KAFKA_SSL');
      expect(problems(noSwitch)).toContain('KAFKA_SSL_CA_FILE is set but KAFKA_SSL is not true');
      const noPassword = without(scram('127.0.0.1:1'), 'KAFKA_SASL_PASSWORD_FILE');
      expect(problems(noPassword)).toContain(
        'KAFKA_SASL_PASSWORD_FILE is required with KAFKA_SASL_MECHANISM',
      );
      expect(problems({ KAFKA_BROKERS: '127.0.0.1:1', KAFKA_SASL_USERNAME: USER.name })).toContain(
        'KAFKA_SASL_USERNAME is set but KAFKA_SASL_MECHANISM is not',
      );
    });
  });
});
