import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * How the tests reach Kafka and PostgreSQL:
 * - `external`: KAFKA_BROKERS and DATABASE_URL were given (CI after `infra.sh up`, or your own);
 * - `docker`: testcontainers started them (a Docker engine answered and nothing was given);
 * - `local`: the project's infra script started them.
 */
export type InfraMode = 'external' | 'docker' | 'local';

export const REPO_ROOT = resolve(__dirname, '../../..');
const INFRA_SCRIPT = resolve(REPO_ROOT, 'deploy/local/infra.sh');

export function infraMode(): InfraMode {
  return (process.env.PUSH_TEST_INFRA as InfraMode | undefined) ?? 'external';
}

/**
 * Takes the broker away and brings it back, for readiness and outage tests. With the local script
 * it stops and starts the process; with testcontainers it pauses and resumes the container.
 */
export const broker = {
  stop(): void {
    if (infraMode() === 'docker') {
      execFileSync('docker', ['pause', process.env.PUSH_TEST_KAFKA_CONTAINER!], {
        stdio: 'inherit',
      });
    } else {
      execFileSync('bash', [INFRA_SCRIPT, 'kafka-stop'], { stdio: 'inherit' });
    }
  },
  start(): void {
    if (infraMode() === 'docker') {
      execFileSync('docker', ['unpause', process.env.PUSH_TEST_KAFKA_CONTAINER!], {
        stdio: 'inherit',
      });
    } else {
      execFileSync('bash', [INFRA_SCRIPT, 'kafka-start'], { stdio: 'inherit' });
    }
  },
};

export function runInfraScript(cmd: 'up' | 'down'): void {
  execFileSync('bash', [INFRA_SCRIPT, cmd], { stdio: 'inherit', env: process.env });
}
