import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { WebhookEvent } from '@app/config';
import { TOPICS, type DeadLetter, type OutcomeStatus, type PushOutcome } from '@app/contracts';
import { EventProducer, KafkaConsumerGroups, outbound } from '@app/kafka';
import {
  FaultProxy,
  startService,
  testKafka,
  TopicRecorder,
  uniqueId,
  waitFor,
  writeAppsFile,
} from '@app/testing';
import { STORE_GROUP } from '@apps/delivery-reports/store/outcomes.consumer';
import {
  WEBHOOK_RETRIES_GROUP,
  WEBHOOKS_GROUP,
} from '@apps/delivery-reports/webhooks/webhooks.consumer';
import { SERVICES } from '../services';

/**
 * The receiver side of docs/delivery-reports.md's verification snippet, as a receiver would write
 * it with node:crypto alone: the same steps, the same string signed (`<t>.<raw body>`).
 */
export function verifySignature(secret: string, header: string, rawBody: string): boolean {
  const fields = Object.fromEntries(header.split(',').map((kv) => kv.split('=', 2)));
  const t = Number(fields.t);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  const given = Buffer.from(String(fields.v1 ?? ''), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** One request a receiver got. */
export interface Received {
  at: number;
  deliveryId: string;
  attempt: number;
  signatureOk: boolean;
  body: { deliveryId: string; appId: string; outcomes: Array<PushOutcome & { event: string }> };
}

/** What the receiver answers the n-th request (0-based) of a delivery: a status, or no answer. */
export type Answer = { status: number; headers?: Record<string, string> } | 'hang';

/** A local webhook receiver (node:http on 127.0.0.1) that checks every signature. */
export class Receiver {
  readonly requests: Received[] = [];
  readonly secret = `secret-${uniqueId()}-${uniqueId()}`;
  private readonly hung = new Set<ServerResponse>();
  private server!: Server;

  private constructor(private readonly answer: (nth: number, r: Received) => Answer) {}

  static async start(answer: (nth: number, r: Received) => Answer = () => ({ status: 204 })) {
    const r = new Receiver(answer);
    r.server = createServer((req, res) => r.onRequest(req, res));
    await new Promise<void>((ok) => r.server.listen(0, '127.0.0.1', ok));
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/push`;
  }

  /** Requests hanging unanswered right now. */
  get hanging(): number {
    return this.hung.size;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const deliveryId = String(req.headers['x-push-delivery-id']);
      const got: Received = {
        at: Date.now(),
        deliveryId,
        attempt: Number(req.headers['x-push-attempt']),
        signatureOk: verifySignature(this.secret, String(req.headers['x-push-signature']), raw),
        body: JSON.parse(raw) as Received['body'],
      };
      const nth = this.requests.filter((r) => r.deliveryId === deliveryId).length;
      this.requests.push(got);
      const a = this.answer(nth, got);
      if (a === 'hang') {
        this.hung.add(res);
        res.on('close', () => this.hung.delete(res));
        return;
      }
      res.writeHead(a.status, a.headers).end();
    });
  }

  /** Every outcome received, by jobId (several copies when a delivery came twice). */
  jobIds(): string[] {
    return this.requests.flatMap((r) => r.body.outcomes.map((o) => o.jobId));
  }

  async stop(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((ok) => this.server.close(() => ok()));
  }
}

export interface HookSpec {
  receiver: Receiver;
  events?: WebhookEvent[];
  batchMax?: number;
  timeoutMs?: number;
}

/** An apps file with these apps and their webhooks, each secret in a file beside it. */
export function writeWebhookApps(apps: Record<string, HookSpec[]>): string {
  const dir = mkdtempSync(join(tmpdir(), 'webhook-apps-'));
  const tenants = Object.entries(apps).map(([id, hooks]) => ({
    id,
    webhooks: hooks.map((h, i) => {
      writeFileSync(join(dir, `${id}-${i}.secret`), `${h.receiver.secret}\n`);
      return {
        url: h.receiver.url,
        secretFile: `${id}-${i}.secret`,
        ...(h.events ? { events: h.events } : {}),
        ...(h.batchMax ? { batchMax: h.batchMax } : {}),
        ...(h.timeoutMs ? { timeoutMs: h.timeoutMs } : {}),
      };
    }),
  }));
  return writeAppsFile(tenants, { file: join(dir, 'apps.yaml') });
}

export interface WebhooksService {
  app: INestApplication;
  /** The service's way to PostgreSQL: `cutNow()` is a database outage for it alone. */
  database: FaultProxy;
}

/**
 * The real delivery-reports service in this process (its app module, as `main.ts` builds it),
 * with these apps and settings, its webhook groups under a group id of their own, started and
 * joined: outcomes produced after this returns are delivered. PostgreSQL is reached through a
 * proxy the test can cut. With `store`, the store group runs too, on that schema (migrated).
 */
export async function startWebhooks(
  appsFile: string,
  env: Record<string, string> = {},
  opts: { store?: { schema: string } } = {},
): Promise<WebhooksService> {
  const dbUrl = new URL(process.env.DATABASE_URL ?? 'postgres://push:push@127.0.0.1:5432/push');
  const database = new FaultProxy({ host: dbUrl.hostname, port: Number(dbUrl.port || 5432) });
  await database.restore();
  const store = opts.store
    ? {
        DELIVERY_REPORTS_SCHEMA: opts.store.schema,
        DELIVERY_REPORTS_RUN_MIGRATIONS: 'true',
        DELIVERY_REPORTS_STORE_GROUP_ID: uniqueId('reports-store'),
        DELIVERY_REPORTS_NEW_GROUP_START: 'latest',
      }
    : { DELIVERY_REPORTS_STORE_CONSUMER: 'false' };
  const app = await startService({
    ...SERVICES.deliveryReports,
    env: {
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
      DATABASE_URL: database.via(dbUrl.toString()),
      PUSH_APPS_FILE: appsFile,
      LOG_LEVEL: 'warn',
      INSTANCE_ID: uniqueId('reports'),
      WEBHOOK_GROUP_ID: uniqueId('webhooks'),
      ...store,
      ...env,
    },
  });
  const groups = app.get(KafkaConsumerGroups);
  const joined = [WEBHOOKS_GROUP, WEBHOOK_RETRIES_GROUP, ...(opts.store ? [STORE_GROUP] : [])];
  await waitFor(
    () =>
      joined.every((g) => {
        const runners = groups.runners(g);
        return runners.length > 0 && runners.every((r) => r.isHealthy());
      }),
    { what: 'the webhook (and store) groups running', timeoutMs: 45_000 },
  );
  return { app, database };
}

let job = 0;
/** A push.outcome.v1 value (jobIds unique in the run). */
export function outcome(appId: string, userId: string, status: OutcomeStatus): PushOutcome {
  return {
    jobId: `${uniqueId('job')}-${job++}`,
    messageId: uniqueId('m'),
    appId,
    userId,
    deviceId: 'd1',
    provider: 'fcm',
    status,
    code: status === 'suppressed' ? 'DND' : null,
    reason: null,
    attempts: status === 'suppressed' ? 0 : 1,
    latencyMs: status === 'suppressed' ? null : 25,
    at: new Date().toISOString(),
  };
}

export async function produceOutcomes(
  app: INestApplication,
  outcomes: PushOutcome[],
): Promise<void> {
  await app.get(EventProducer).send(outcomes.map((o) => outbound(TOPICS.pushOutcome, o)));
}

/** Dead letters written from now on whose source is the webhook retry topic. */
export function watchWebhookDeadLetters(): Promise<TopicRecorder> {
  return TopicRecorder.start(testKafka('webhook-dead-letters'), TOPICS.deadLetter.name, {
    filter: ({ value }) => (value as DeadLetter).source.topic === TOPICS.webhookRetry.name,
  });
}
