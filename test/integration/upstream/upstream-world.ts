import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import { Client } from 'pg';
import {
  FakeApns,
  FakeFcm,
  REPO_ROOT,
  ensureTlsMaterial,
  generateApnsKey,
  infraMode,
  startDisposableBroker,
  uniqueId,
  type DisposableBroker,
} from '@app/testing';
import {
  SERVICE_NAMES,
  ServiceProcess,
  type ServiceName,
} from '../../../libs/testing/src/fault-world';

/**
 * The platform as an upstream sees it, for the upstream examples' tests: a broker of its own
 * (the five services read whole topics and write state for every key they see, so they do not
 * share the broker other tests use) with the contract topics, the fake APNs and FCM, a tenant
 * pointed at them, the registry's tables in a schema of their own, and the five services as
 * processes started from their `main.ts` (as they start in production, whatever wires them).
 */
export const UPSTREAM_APP = 'upstream-nest';
export const UPSTREAM_API_KEY = 'upstream-nest-api-key';
export const APNS_TOPIC = 'com.example.upstream';
const FCM_PROJECT = 'upstream-project';

/** Ports 19880–19899 are this world's: services on 19881–19885, the broker on 19892 (+1). */
const BROKER_PORT = 19892;
const HTTP_BASE_PORT = 19880;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One record read back from the broker. */
export interface ReadRecord {
  topic: string;
  partition: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

export class UpstreamWorld {
  readonly run = randomUUID().slice(0, 6);
  readonly dir = resolve(REPO_ROOT, `.local/upstream-${BROKER_PORT}`);
  broker!: DisposableBroker;
  kafka!: Kafka;
  apns!: FakeApns;
  fcm!: FakeFcm;
  readonly services = {} as Record<ServiceName, ServiceProcess>;
  private readonly schema = `upstream_${this.run}`;
  private databaseUrl = process.env.DATABASE_URL ?? 'postgres://push:push@127.0.0.1:5432/push';
  private appsFile = '';

  get brokers(): string[] {
    return this.broker.brokers;
  }

  portOf(name: ServiceName): number {
    return HTTP_BASE_PORT + 1 + SERVICE_NAMES.indexOf(name);
  }

  async start(): Promise<void> {
    mkdirSync(join(this.dir, 'logs'), { recursive: true });
    mkdirSync(join(this.dir, 'pids'), { recursive: true });
    await this.startBroker();
    await this.startFakes();
    const db = new Client({ connectionString: this.databaseUrl });
    await db.connect();
    await db.query(`CREATE SCHEMA ${this.schema}`);
    await db.end();
    for (const name of SERVICE_NAMES) {
      const pidFile = join(this.dir, 'pids', `${name}.pid`);
      ServiceProcess.reapLeftover(name, pidFile);
      const svc = new ServiceProcess(
        name,
        this.portOf(name),
        () => this.envFor(name),
        join(this.dir, 'logs', `${name}.log`),
        pidFile,
      );
      this.services[name] = svc;
      svc.start();
    }
    await this.waitReady(90000);
  }

  /** An empty broker (no records or offsets of an earlier run), with the contract topics. */
  private async startBroker(): Promise<void> {
    if (infraMode() !== 'docker') {
      const local = resolve(REPO_ROOT, `.local/disposable-${BROKER_PORT}`);
      execFileSync('bash', [resolve(REPO_ROOT, 'deploy/local/infra.sh'), 'kafka-stop'], {
        env: {
          ...process.env,
          KAFKA_PORT: String(BROKER_PORT),
          KAFKA_CONTROLLER_PORT: String(BROKER_PORT + 1),
          PUSH_LOCAL_DIR: local,
        },
        stdio: 'ignore',
      });
      rmSync(join(local, 'kafka/data'), { recursive: true, force: true });
    }
    this.broker = await startDisposableBroker(BROKER_PORT);
    this.kafka = new Kafka({
      clientId: `upstream-test-${this.run}`,
      brokers: this.broker.brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 5 },
    });
  }

  private async startFakes(): Promise<void> {
    const tls = ensureTlsMaterial(join(this.dir, 'tls'));
    const key = generateApnsKey(join(this.dir, 'apns'), 'UPSTRKEY01', 'UPSTRTEAM1');
    this.apns = await new FakeApns({ tls, keys: [key], topics: [APNS_TOPIC] }).start();
    this.fcm = await FakeFcm.start({ tls });
    const serviceAccount = this.fcm.writeServiceAccount(FCM_PROJECT, join(this.dir, 'fcm'));
    this.appsFile = join(this.dir, 'apps.yaml');
    writeFileSync(
      this.appsFile,
      [
        '# Written by test/integration/upstream/upstream-world.ts.',
        'apps:',
        `  - id: ${UPSTREAM_APP}`,
        `    apiKeys: ["sha256:${sha256(UPSTREAM_API_KEY)}"]`,
        '    policy: { suppressWhenOnlineElsewhere: false, offlineAfterDays: 7 }',
        '    apns:',
        `      teamId: ${key.teamId}`,
        `      keyId: ${key.keyId}`,
        `      keyFile: ${key.keyFile}`,
        `      topics: [${APNS_TOPIC}]`,
        `      endpoint: { host: 127.0.0.1, port: ${this.apns.port}, caFile: ${tls.caFile} }`,
        '    fcm:',
        `      projectId: ${FCM_PROJECT}`,
        `      serviceAccountFile: ${serviceAccount}`,
        `      endpoint: { host: 127.0.0.1, port: ${this.fcm.port}, caFile: ${tls.caFile} }`,
        '',
      ].join('\n'),
    );
  }

  private envFor(name: ServiceName): Record<string, string> {
    const sep = this.databaseUrl.includes('?') ? '&' : '?';
    const own: Record<ServiceName, Record<string, string>> = {
      'token-registry': {
        DATABASE_URL: `${this.databaseUrl}${sep}options=-c%20search_path%3D${this.schema}`,
        REGISTRY_RUN_MIGRATIONS: 'true',
        DATABASE_POOL_SIZE: '4',
      },
      presence: {},
      // The broker is new: decide everything its topics hold.
      routing: { ROUTING_NEW_GROUP_START: 'earliest' },
      'apns-dispatcher': { APNS_SESSION_TIMEOUT_MS: '6000' },
      'fcm-dispatcher': { FCM_SESSION_TIMEOUT_MS: '6000' },
    };
    return {
      KAFKA_BROKERS: this.brokers.join(','),
      PUSH_APPS_FILE: this.appsFile,
      HTTP_PORT: String(this.portOf(name)),
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      SHUTDOWN_TIMEOUT_MS: '10000',
      ...own[name],
    };
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const ready = await Promise.all(SERVICE_NAMES.map((n) => this.services[n].ready()));
      if (ready.every(Boolean)) return;
      for (const n of SERVICE_NAMES) {
        const code = this.services[n].child?.exitCode;
        if (code !== null && code !== undefined) {
          throw new Error(`${n} exited (code ${code}); see ${this.dir}/logs/${n}.log`);
        }
      }
      if (Date.now() > until) {
        throw new Error(
          `not ready within ${timeoutMs} ms: ${SERVICE_NAMES.filter((_, i) => !ready[i]).join(', ')} (see ${this.dir}/logs)`,
        );
      }
      await sleep(300);
    }
  }

  /** An HTTP call to a service with the tenant's API key; the status and the JSON body. */
  async api(
    name: ServiceName,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    const r = await fetch(`http://127.0.0.1:${this.portOf(name)}${path}`, {
      method,
      headers: { authorization: `Bearer ${UPSTREAM_API_KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10000),
    });
    const text = await r.text();
    return { status: r.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  }

  /**
   * Reads `topics` from the beginning (read committed) in a group of its own until `done` says
   * the records suffice; throws with what it read after `timeoutMs`.
   */
  async read(
    topics: string[],
    done: (records: ReadRecord[]) => boolean,
    timeoutMs = 20000,
  ): Promise<ReadRecord[]> {
    const consumer = this.kafka.consumer({ groupId: uniqueId('upstream-reader') });
    const records: ReadRecord[] = [];
    let finish!: () => void;
    const finished = new Promise<void>((r) => (finish = r));
    await consumer.connect();
    try {
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ topic, partition, message }) => {
          records.push({
            topic,
            partition,
            key: message.key?.toString('utf8') ?? null,
            value: message.value?.toString('utf8') ?? null,
            headers: headerStrings(message.headers),
          });
          if (done(records)) finish();
        },
      });
      const timer = setTimeout(finish, timeoutMs);
      await finished;
      clearTimeout(timer);
    } finally {
      await consumer.disconnect();
    }
    if (!done(records)) {
      throw new Error(
        `read ${records.length} records of ${topics.join(', ')} in ${timeoutMs} ms, not enough`,
      );
    }
    return records;
  }

  async stop(): Promise<void> {
    await Promise.all(Object.values(this.services).map((s) => s.close()));
    await this.apns?.stop();
    await this.fcm?.stop();
    await this.broker?.destroy();
    const db = new Client({ connectionString: this.databaseUrl });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
    await db.end();
  }
}

function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined) out[k] = first.toString();
  }
  return out;
}
