import type { INestApplication } from '@nestjs/common';
import { buildServiceConfig, hashApiKey } from '@app/config';
import {
  TOPICS,
  type ApnsRequest,
  type DeadLetter,
  type PushOutcome,
  type TokenInvalidated,
} from '@app/contracts';
import { createServiceApp, startServiceApp } from '@app/http';
import { EventProducer, ensureTopics, outbound, setGroupOffsetsAtEnd } from '@app/kafka';
import {
  ensureTlsMaterial,
  FakeApns,
  FIXTURE_APNS_TOPIC,
  generateApnsKey,
  json,
  startDisposableBroker,
  uniqueId,
  waitFor,
  type ApnsSigningKey,
  type DisposableBroker,
  type TlsMaterial,
} from '@app/testing';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ApnsEnvSchema } from '@apps/apns-dispatcher/apns-env.schema';
import { ApnsDispatcherAppModule } from '@apps/apns-dispatcher/app.module';

/** The broker port reserved for the APNs dispatcher's tests (nobody else's records on it). */
export const APNS_BROKER_PORT = 19492;
export const TOPIC = FIXTURE_APNS_TOPIC;

export const hexToken = (): string => randomBytes(32).toString('hex');

export async function startBroker(): Promise<{ broker: DisposableBroker; kafka: Kafka }> {
  const broker = await startDisposableBroker(APNS_BROKER_PORT);
  const kafka = new Kafka({
    clientId: uniqueId('apns-test'),
    brokers: broker.brokers,
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, { partitions: 12, replicationFactor: 1 });
  await admin.disconnect();
  return { broker, kafka };
}

export interface AppSpec {
  id: string;
  environments?: Array<'production' | 'sandbox'>;
  key?: ApnsSigningKey;
  endpoint?: { host: string; port: number; caFile?: string };
  /** Certificate auth instead of a provider token. */
  cert?: { certFile: string; keyFile: string };
}

/** Temp dir with TLS material, a `.p8`, and an apps file the tests write. */
export class ApnsWorld {
  readonly dir = mkdtempSync(join(tmpdir(), 'apns-it-'));
  readonly tls: TlsMaterial = ensureTlsMaterial(join(this.dir, 'tls'));
  readonly key: ApnsSigningKey = generateApnsKey(join(this.dir, 'keys'));
  /** Signed by a key the fake does not trust: APNs answers 403 InvalidProviderToken. */
  readonly strangerKey: ApnsSigningKey = generateApnsKey(
    join(this.dir, 'stranger'),
    'STRANGER01',
    'FAKETEAM01',
  );

  fake(opts: { record?: boolean } = {}): Promise<FakeApns> {
    return new FakeApns({ tls: this.tls, keys: [this.key], topics: [TOPIC], ...opts }).start();
  }

  writeAppsFile(fakePort: number, apps: AppSpec[]): string {
    const file = join(this.dir, `apps-${uniqueId()}.yaml`);
    const doc = {
      apps: apps.map((a) => {
        const key = a.key ?? this.key;
        return {
          id: a.id,
          apiKeys: [hashApiKey(`${a.id}-key`)],
          apns: {
            ...(a.cert ?? { teamId: key.teamId, keyId: key.keyId, keyFile: key.keyFile }),
            topics: [TOPIC],
            environments: a.environments ?? ['production', 'sandbox'],
            endpoint: a.endpoint ?? { host: '127.0.0.1', port: fakePort, caFile: this.tls.caFile },
          },
        };
      }),
    };
    writeFileSync(file, stringify(doc));
    return file;
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const dispatcherEnv = (
  brokers: string[],
  appsFile: string,
  extra: Record<string, string> = {},
) => ({
  KAFKA_BROKERS: brokers.join(','),
  PUSH_APPS_FILE: appsFile,
  LOG_LEVEL: process.env.APNS_TEST_VERBOSE ? 'warn' : 'error',
  NODE_ENV: 'test',
  APNS_GROUP_ID: uniqueId('apns-dispatcher'),
  APNS_CONNECTIONS_PER_POOL: '2',
  APNS_RETRY_BASE_MS: '200',
  APNS_RETRY_MAX_MS: '2000',
  APNS_REQUEST_TIMEOUT_MS: '1500',
  APNS_PING_INTERVAL_MS: '500',
  APNS_PING_TIMEOUT_MS: '500',
  ...extra,
});

/** The real dispatcher application, in this process (its consumer starts on init). */
export async function startDispatcher(env: Record<string, string>): Promise<INestApplication> {
  const config = buildServiceConfig(
    { name: 'apns-dispatcher', defaultPort: 0 },
    ApnsEnvSchema,
    env,
  );
  const app = await createServiceApp(config, {
    module: (c) => ApnsDispatcherAppModule.forRoot(c),
  });
  await startServiceApp(app);
  return app;
}

/**
 * Everything the dispatcher writes from now on, read by a group of the test's own that starts at
 * the topics' current ends (the benchmark leaves millions of records on this broker). A fresh
 * broker's group coordinator can be slow to load: start() waits until the group is joined, and a
 * consumer that crashes for good is replaced (records are deduplicated by position).
 */
export class Collector {
  readonly outcomes: PushOutcome[] = [];
  readonly invalidations: TokenInvalidated[] = [];
  readonly deadLetters: DeadLetter[] = [];
  readonly retries: ApnsRequest[] = [];
  private readonly seen = new Set<string>();
  private readonly byJob = new Map<string, PushOutcome[]>();
  private consumer?: Consumer;
  private stopped = false;
  private readonly groupId = uniqueId('collector');
  private static readonly TOPICS = [
    TOPICS.pushOutcome.name,
    TOPICS.tokenInvalidated.name,
    TOPICS.deadLetter.name,
    TOPICS.apnsRetry.name,
  ];

  constructor(private readonly kafka: Kafka) {}

  async start(): Promise<this> {
    const admin = this.kafka.admin();
    await admin.connect();
    // Just-created topics may not have leaders yet: retry until the ends can be read.
    await waitFor(
      async () => {
        for (const topic of Collector.TOPICS) {
          await setGroupOffsetsAtEnd(admin, this.groupId, topic);
        }
        return true;
      },
      { what: 'collector offsets at the topic ends', timeoutMs: 60000, intervalMs: 500 },
    );
    await admin.disconnect();
    for (let attempt = 1; ; attempt++) {
      try {
        await this.startOnce();
        return this;
      } catch (e) {
        await this.consumer?.disconnect().catch(() => undefined);
        if (attempt >= 3) throw e;
      }
    }
  }

  private async startOnce(): Promise<void> {
    const consumer = this.kafka.consumer({ groupId: this.groupId, maxWaitTimeInMs: 200 });
    this.consumer = consumer;
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
    consumer.on(consumer.events.CRASH, (e) => {
      if (e.payload.restart || this.stopped || this.consumer !== consumer) return;
      void consumer
        .disconnect()
        .catch(() => undefined)
        .then(() => this.startOnce())
        .catch(() => undefined);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: Collector.TOPICS, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const at = `${topic}:${partition}:${message.offset}`;
        if (this.seen.has(at)) return;
        this.seen.add(at);
        if (topic === TOPICS.pushOutcome.name) {
          const o = json<PushOutcome>(message);
          this.outcomes.push(o);
          const list = this.byJob.get(o.jobId);
          if (list) list.push(o);
          else this.byJob.set(o.jobId, [o]);
        } else if (topic === TOPICS.tokenInvalidated.name) {
          this.invalidations.push(json<TokenInvalidated>(message));
        } else if (topic === TOPICS.deadLetter.name) {
          this.deadLetters.push(json<DeadLetter>(message));
        } else this.retries.push(json<ApnsRequest>(message));
        return Promise.resolve();
      },
    });
    await waitFor(() => joined, { what: 'collector joined its group', timeoutMs: 60000 });
  }

  outcomesOf(jobId: string): PushOutcome[] {
    return this.byJob.get(jobId) ?? [];
  }

  outcome(jobId: string, timeoutMs = 20000): Promise<PushOutcome> {
    return waitFor(() => this.outcomesOf(jobId)[0], { what: `outcome of ${jobId}`, timeoutMs });
  }

  invalidationsOf(token: string): TokenInvalidated[] {
    return this.invalidations.filter((i) => i.token === token);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer?.disconnect();
  }
}

export async function produce(kafka: Kafka, requests: ApnsRequest[]): Promise<void> {
  const producer = new EventProducer(kafka);
  await producer.send(requests.map((r) => outbound(TOPICS.apnsRequest, r)));
  await producer.disconnect();
}
