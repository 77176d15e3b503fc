import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { ensureTopics } from '@app/kafka';
import { Kafka, logLevel } from 'kafkajs';

/**
 * How the tests reach Kafka and PostgreSQL:
 * - `external`: KAFKA_BROKERS and DATABASE_URL were given (CI after `infra.sh up`, or your own);
 * - `docker`: testcontainers started them (a Docker engine answered and nothing was given);
 * - `local`: the project's infra script started them.
 */
export type InfraMode = 'external' | 'docker' | 'local';

/** A second local broker with SCRAM and TLS listeners, for the Kafka security settings' tests. */
export {
  startSecureBroker,
  type ScramUser,
  type SecureBroker,
  type SecureBrokerTls,
} from './secure-broker';

export const REPO_ROOT = resolve(__dirname, '../../..');
const INFRA_SCRIPT = resolve(REPO_ROOT, 'deploy/local/infra.sh');

export function infraMode(): InfraMode {
  return (process.env.PUSH_TEST_INFRA as InfraMode | undefined) ?? 'external';
}

/** A broker that a test may stop and start without disturbing the shared one. */
export interface DisposableBroker {
  brokers: string[];
  stop(): void;
  start(): void;
  destroy(): Promise<void>;
  /** The broker's process id when it runs on this machine (benchmarks read its CPU time). */
  pid?(): number | undefined;
}

/**
 * Starts a broker of its own for outage tests: a second local KRaft broker on other ports (the
 * jars are already cached), or, under testcontainers, a container that is paused and resumed.
 */
export async function startDisposableBroker(port = 19092): Promise<DisposableBroker> {
  const broker = await launchDisposableBroker(port);
  // Services started against it find their topics there, as they would in production.
  const admin = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await ensureTopics(admin, { partitions: 12, replicationFactor: 1 });
  } finally {
    await admin.disconnect();
  }
  return broker;
}

async function launchDisposableBroker(port: number): Promise<DisposableBroker> {
  if (infraMode() === 'docker') {
    const { KafkaContainer } = await import('@testcontainers/kafka');
    const container = await new KafkaContainer('confluentinc/cp-kafka:8.1.0')
      .withEnvironment({ KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1' })
      .start();
    const id = container.getId();
    return {
      brokers: [`${container.getHost()}:${container.getMappedPort(9093)}`],
      stop: () => execFileSync('docker', ['pause', id], { stdio: 'inherit' }),
      start: () => execFileSync('docker', ['unpause', id], { stdio: 'inherit' }),
      destroy: async () => void (await container.stop()),
    };
  }
  const dir = resolve(REPO_ROOT, `.local/disposable-${port}`);
  const env = {
    ...process.env,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(port + 1),
    KAFKA_HEAP: '384m',
    PUSH_LOCAL_DIR: dir,
  };
  const run = (cmd: string) => execFileSync('bash', [INFRA_SCRIPT, cmd], { stdio: 'inherit', env });
  // Every launch starts clean: a broker left running by a run that was killed is stopped and its
  // topics and offsets are removed (the cached jars stay).
  run('kafka-stop');
  rmSync(resolve(dir, 'kafka/data'), { recursive: true, force: true });
  run('kafka-start');
  const onSignal = (signal: NodeJS.Signals) => {
    destroy();
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
  };
  const destroy = () => {
    process.off('exit', destroy);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    run('kafka-stop');
    rmSync(resolve(dir, 'kafka/data'), { recursive: true, force: true });
  };
  // A benchmark or test that exits without destroying it (an error, process.exit, Ctrl-C) still
  // stops it.
  process.once('exit', destroy);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    brokers: [`127.0.0.1:${port}`],
    stop: () => run('kafka-stop'),
    start: () => run('kafka-start'),
    destroy: async () => destroy(),
    pid: () => {
      const file = resolve(env.PUSH_LOCAL_DIR, 'kafka/kafka.pid');
      return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : undefined;
    },
  };
}
