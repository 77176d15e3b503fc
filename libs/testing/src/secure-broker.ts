import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureTlsMaterial, signClientCertificate } from './tls-material';

/** A SCRAM-SHA-512 user created when the broker's storage is formatted. Letters and digits only. */
export interface ScramUser {
  name: string;
  password: string;
}

/** Client TLS material signed by the broker's throw-away CA (PEM files). */
export interface SecureBrokerTls {
  caFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

export interface SecureBroker {
  /** `127.0.0.1:<port>` of each listener; every listener but the internal one needs security. */
  listeners: {
    /** SCRAM-SHA-512 without TLS. */
    saslPlaintext: string;
    /** TLS with a client certificate required (mutual TLS). */
    ssl: string;
    /** SCRAM-SHA-512 over TLS (no client certificate). */
    saslSsl: string;
  };
  tls: SecureBrokerTls;
  /** The broker's log so far (for a failing test's message). */
  log(): string;
  stop(): Promise<void>;
}

const REPO_ROOT = resolve(__dirname, '../../..');

const isPortOpen = (port: number): Promise<boolean> =>
  new Promise((done) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The jars `deploy/local/infra.sh` cached for the shared broker (same Kafka version). */
function kafkaJars(): string {
  const pom = readFileSync(resolve(REPO_ROOT, 'deploy/local/kafka/pom.xml'), 'utf8');
  const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1];
  const state = process.env.PUSH_LOCAL_DIR ?? resolve(REPO_ROOT, '.local');
  const dir = join(state, 'kafka', `libs-${version}`);
  // Absent when the shared broker is not this checkout's (infra.sh found one running).
  if (!existsSync(join(dir, '.complete'))) {
    execFileSync('bash', [resolve(REPO_ROOT, 'deploy/local/infra.sh'), 'jars'], {
      stdio: 'inherit',
    });
  }
  return dir;
}

/**
 * A second local KRaft broker (the cached jars of `deploy/local`), secured, for tests of the
 * clients' TLS and SASL settings. Five consecutive ports from `basePort`:
 *
 * - `basePort`: SASL_PLAINTEXT, SCRAM-SHA-512 with `users`;
 * - `basePort + 1`: the KRaft controller, `basePort + 2`: inter-broker (both plaintext, not for clients);
 * - `basePort + 3`: SSL, a client certificate from `tls` required;
 * - `basePort + 4`: SASL_SSL, SCRAM-SHA-512 over TLS.
 *
 * The SCRAM credentials are added when the storage is formatted (`kafka-storage format
 * --add-scram`), as KRaft requires. The CA, the broker's certificate and a client certificate
 * are made with the openssl CLI in a temporary directory, removed by `stop()` with the data.
 * Start and stop take about 10 s on two cores.
 */
export async function startSecureBroker(opts: {
  basePort: number;
  users: ScramUser[];
}): Promise<SecureBroker> {
  const p = opts.basePort;
  for (const port of [p, p + 1, p + 2, p + 3, p + 4]) {
    if (await isPortOpen(port)) {
      throw new Error(`port ${port} is taken (a broker left over from an interrupted run?)`);
    }
  }
  for (const u of opts.users) {
    if (!/^[A-Za-z0-9]+$/.test(u.name) || !/^[A-Za-z0-9]+$/.test(u.password)) {
      throw new Error('SCRAM user names and passwords here are letters and digits only');
    }
  }
  const jars = kafkaJars();
  const dir = mkdtempSync(join(tmpdir(), 'kafka-secure-'));
  const f = (n: string) => join(dir, n);

  // TLS: the fakes' CA and server certificate (names 127.0.0.1), plus a client certificate.
  const tls = ensureTlsMaterial(f('tls'));
  const ossl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ossl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('client.ec.key')]);
  // PKCS#8, the form every TLS stack reads.
  ossl(['pkcs8', '-topk8', '-nocrypt', '-in', f('client.ec.key'), '-out', f('client.key')]);
  ossl(['req', '-new', '-key', f('client.key'), '-subj', '/CN=push-client', '-out', f('c.csr')]);
  signClientCertificate(
    tls,
    { csr: f('c.csr'), ext: f('client.ext'), out: f('client.crt') },
    'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n',
  );
  // The broker's key store: its key and certificate chain as PKCS#12.
  const storePassword = randomBytes(12).toString('hex');
  ossl([
    'pkcs12',
    '-export',
    '-in',
    tls.certFile,
    '-inkey',
    tls.keyFile,
    '-certfile',
    tls.caFile,
    '-name',
    'broker',
    '-passout',
    `pass:${storePassword}`,
    '-out',
    f('broker.p12'),
  ]);

  // The shared broker's template (same tuning), then the listeners of this one: later keys win.
  const template = readFileSync(
    resolve(REPO_ROOT, 'deploy/local/kafka/server.properties.template'),
    'utf8',
  )
    .replaceAll('@DATA_DIR@', f('data'))
    .replaceAll('@KAFKA_PORT@', String(p + 2))
    .replaceAll('@CONTROLLER_PORT@', String(p + 1));
  const jaas = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  const overrides = [
    `listeners=SASL_PLAINTEXT://127.0.0.1:${p},CONTROLLER://127.0.0.1:${p + 1},` +
      `INTERNAL://127.0.0.1:${p + 2},SSL://127.0.0.1:${p + 3},SASL_SSL://127.0.0.1:${p + 4}`,
    `advertised.listeners=SASL_PLAINTEXT://127.0.0.1:${p},INTERNAL://127.0.0.1:${p + 2},` +
      `SSL://127.0.0.1:${p + 3},SASL_SSL://127.0.0.1:${p + 4}`,
    'inter.broker.listener.name=INTERNAL',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,' +
      'SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL',
    'sasl.enabled.mechanisms=SCRAM-SHA-512',
    `listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=${jaas}`,
    `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=${jaas}`,
    'ssl.keystore.type=PKCS12',
    `ssl.keystore.location=${f('broker.p12')}`,
    `ssl.keystore.password=${storePassword}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${tls.caFile}`,
    'listener.name.ssl.ssl.client.auth=required',
  ];
  writeFileSync(f('server.properties'), `${template}\n${overrides.join('\n')}\n`);

  const log4j = resolve(REPO_ROOT, 'deploy/local/kafka/log4j2.properties');
  const javaArgs = (heap: string) => [
    `-Xmx${heap}`,
    `-Dlog4j2.configurationFile=${log4j}`,
    `-Dkafka.logs.dir=${f('logs')}`,
    '-cp',
    `${jars}/*`,
  ];
  const clusterId = execFileSync('java', [
    ...javaArgs('256m'),
    'kafka.tools.StorageTool',
    'random-uuid',
  ])
    .toString()
    .trim()
    .split('\n')
    .pop()!;
  execFileSync(
    'java',
    [
      ...javaArgs('256m'),
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId,
      '-c',
      f('server.properties'),
      ...opts.users.flatMap((u) => [
        '--add-scram',
        `SCRAM-SHA-512=[name=${u.name},password=${u.password}]`,
      ]),
    ],
    { stdio: 'pipe' },
  );

  const out = openSync(f('stdout.log'), 'a');
  const broker: ChildProcess = spawn(
    'java',
    [
      ...javaArgs('384m'),
      '-Xms384m',
      '-XX:+UseG1GC',
      '-XX:+ExitOnOutOfMemoryError',
      '-Djava.awt.headless=true',
      'kafka.Kafka',
      f('server.properties'),
    ],
    { stdio: ['ignore', out, out] },
  );
  let exited = false;
  broker.once('exit', () => (exited = true));
  const log = () => {
    const read = (n: string) => (existsSync(f(n)) ? readFileSync(f(n), 'utf8') : '');
    return `${read('stdout.log')}${read('logs/server.log')}`.split('\n').slice(-40).join('\n');
  };
  const stop = async () => {
    if (!exited) {
      broker.kill('SIGTERM');
      for (let i = 0; i < 60 && !exited; i++) await sleep(250);
      if (!exited) broker.kill('SIGKILL');
      for (let i = 0; i < 20 && !exited; i++) await sleep(100);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    const started = existsSync(f('logs/server.log'))
      ? readFileSync(f('logs/server.log'), 'utf8').includes('Kafka Server started')
      : false;
    if (started && (await isPortOpen(p))) break;
    if (exited || Date.now() > deadline) {
      const tail = log();
      await stop();
      throw new Error(`the secure broker did not start:\n${tail}`);
    }
    await sleep(250);
  }

  return {
    listeners: {
      saslPlaintext: `127.0.0.1:${p}`,
      ssl: `127.0.0.1:${p + 3}`,
      saslSsl: `127.0.0.1:${p + 4}`,
    },
    tls: { caFile: tls.caFile, clientCertFile: f('client.crt'), clientKeyFile: f('client.key') },
    log,
    stop,
  };
}
