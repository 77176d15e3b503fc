import type { NestExpressApplication } from '@nestjs/platform-express';
import {
  TOPICS,
  type ApnsRequest,
  type DeadLetter,
  type PushOutcome,
  type TokenInvalidated,
} from '@app/contracts';
import { EventProducer, ensureTopics, outbound } from '@app/kafka';
import {
  apnsAtFake,
  ensureTlsMaterial,
  FakeApns,
  FIXTURE_APNS_TOPIC,
  generateApnsKey,
  startDisposableBroker,
  startService,
  TopicRecorder,
  uniqueId,
  waitFor,
  writeAppsFile,
  type ApnsSigningKey,
  type DisposableBroker,
  type TlsMaterial,
} from '@app/testing';
import { Kafka, logLevel } from 'kafkajs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICES } from '../services';

/** The broker port reserved for the APNs dispatcher's tests (nobody else's records on it). */
export const APNS_BROKER_PORT = 19492;
export const TOPIC = FIXTURE_APNS_TOPIC;

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
    return writeAppsFile(
      apps.map((a) => {
        const apns = apnsAtFake({ port: fakePort }, this.tls, a.cert ?? a.key ?? this.key, [TOPIC]);
        const endpoint = a.endpoint ?? apns.endpoint;
        return { id: a.id, apns: { ...apns, environments: a.environments, endpoint } };
      }),
      { dir: this.dir },
    );
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
export function startDispatcher(env: Record<string, string>): Promise<NestExpressApplication> {
  return startService({ ...SERVICES.apnsDispatcher, env });
}

/**
 * Everything the dispatcher writes from now on (outcomes, invalidations, dead letters, retries),
 * decoded, read by a recorder that starts at the topics' current ends (the benchmark leaves
 * millions of records on this broker); outcomes indexed by job.
 */
export class Collector {
  readonly outcomes: PushOutcome[] = [];
  readonly invalidations: TokenInvalidated[] = [];
  readonly deadLetters: DeadLetter[] = [];
  readonly retries: ApnsRequest[] = [];
  private readonly byJob = new Map<string, PushOutcome[]>();
  private recorder?: TopicRecorder;

  constructor(private readonly kafka: Kafka) {}

  async start(): Promise<this> {
    const topics = [
      TOPICS.pushOutcome.name,
      TOPICS.tokenInvalidated.name,
      TOPICS.deadLetter.name,
      TOPICS.apnsRetry.name,
    ];
    this.recorder = await TopicRecorder.start(this.kafka, topics, {
      onRecord: ({ topic, value }) => this.add(topic, value),
    });
    return this;
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
    await this.recorder?.stop();
  }

  private add(topic: string, value: unknown): void {
    if (topic === TOPICS.pushOutcome.name) {
      const o = value as PushOutcome;
      this.outcomes.push(o);
      const list = this.byJob.get(o.jobId);
      if (list) list.push(o);
      else this.byJob.set(o.jobId, [o]);
    } else if (topic === TOPICS.tokenInvalidated.name) {
      this.invalidations.push(value as TokenInvalidated);
    } else if (topic === TOPICS.deadLetter.name) this.deadLetters.push(value as DeadLetter);
    else this.retries.push(value as ApnsRequest);
  }
}

export async function produce(kafka: Kafka, requests: ApnsRequest[]): Promise<void> {
  const producer = new EventProducer(kafka);
  await producer.send(requests.map((r) => outbound(TOPICS.apnsRequest, r)));
  await producer.disconnect();
}
