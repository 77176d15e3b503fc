import type { INestApplication } from '@nestjs/common';
import { TOPICS, type FcmRequest } from '@app/contracts';
import { EventProducer, outbound } from '@app/kafka';
import {
  apnsDevice,
  apnsToken,
  publishPresence,
  publishTokens,
  startDisposableBroker,
  startService,
  uniqueId,
  waitFor,
  type DisposableBroker,
  type FakeApns,
} from '@app/testing';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { InstrumentationBase } from '@opentelemetry/instrumentation';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import { Kafka, logLevel } from 'kafkajs';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import request from 'supertest';
import { DecideConsumer } from '@apps/routing/decide/decide.consumer';
import {
  platformInstrumentations,
  startTracing,
  stopTracing,
} from '../../../libs/observability/src/tracing';
import { ApnsWorld, dispatcherEnv, startDispatcher } from '../apns-dispatcher/apns-harness';
import { startFcmFixture } from '../fcm-dispatcher/fcm-fixture';
import { SERVICES } from '../services';

/**
 * One trace from `POST /v1/apps/demo/messages` to the HTTP/2 request the APNs dispatcher makes:
 * the routing service (HTTP → fan-out → decide) and the APNs dispatcher in this process against
 * the fake APNs, on a broker of their own (port 19792). Both services share this process's one
 * tracer provider (the spans' resource says the same service for both: fine for a test; in
 * production each process has its own). The FCM dispatcher's spans are checked the same way,
 * from request records carrying a caller's traceparent.
 *
 * Under Jest, modules load through Jest's own registry, which the instrumentations' require hook
 * never sees; they are applied here by hand to the modules Jest loaded (http, @nestjs/core,
 * kafkajs). The second test checks that they patch by themselves in the built webpack bundle.
 */
const BROKER_PORT = 19792;
const AUTH = { authorization: 'Bearer demo-key' };

/* eslint-disable @typescript-eslint/no-require-imports -- the modules as Jest's registry has them */
/** Applies each instrumentation's patches to the modules as Jest loads them; returns the undo. */
function patchForJest(instrumentations: InstrumentationBase[]): () => void {
  const undo: Array<() => void> = [];
  const versionOf = (name: string): string =>
    name === 'http' || name === 'https'
      ? process.versions.node
      : (require(`${name}/package.json`) as { version: string }).version;
  for (const inst of instrumentations) {
    for (const def of inst.getModuleDefinitions()) {
      if (!['http', '@nestjs/core', 'kafkajs'].includes(def.name)) continue;
      const version = versionOf(def.name);
      const exports = require(def.name) as unknown;
      if (def.patch) {
        def.patch(exports, version);
        undo.push(() => def.unpatch?.(exports, version));
      }
      // NestJS patches prototypes in its files; kafkajs's files only wrap factories (cluster ids).
      if (def.name !== '@nestjs/core') continue;
      for (const f of def.files) {
        const fileExports = require(f.name) as unknown;
        f.patch(fileExports, version);
        undo.push(() => f.unpatch(fileExports, version));
      }
    }
  }
  return () => undo.reverse().forEach((u) => u());
}
/* eslint-enable @typescript-eslint/no-require-imports */

const hex = (n: number) => randomBytes(n).toString('hex');

describe('tracing', () => {
  const exporter = new InMemorySpanExporter();
  let unpatch: () => void = () => undefined;
  let broker: DisposableBroker;
  let kafka: Kafka;
  let world: ApnsWorld;
  let fake: FakeApns;
  let appsFile: string;
  let routing: INestApplication | undefined;
  let dispatcher: INestApplication | undefined;
  let producer: EventProducer;

  beforeAll(async () => {
    const instrumentations = platformInstrumentations() as InstrumentationBase[];
    startTracing('offline-push-test', {
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
      instrumentations,
    });
    unpatch = patchForJest(instrumentations);
    broker = await startDisposableBroker(BROKER_PORT);
    kafka = new Kafka({
      clientId: 'tracing-it',
      brokers: broker.brokers,
      logLevel: logLevel.NOTHING,
    });
    producer = new EventProducer(kafka);
    await producer.connect();
    world = new ApnsWorld();
    fake = await world.fake();
    appsFile = world.writeAppsFile(fake.port, [{ id: 'demo' }]);
  }, 180000);

  afterAll(async () => {
    await dispatcher?.close();
    await routing?.close();
    await producer?.disconnect();
    await fake?.stop();
    world?.dispose();
    await broker?.destroy();
    unpatch();
    await stopTracing();
  }, 120000);

  it('follows a message from the HTTP request through fan-out, decide and the dispatcher to APNs', async () => {
    routing = await startService({
      ...SERVICES.routing,
      env: {
        KAFKA_BROKERS: broker.brokers.join(','),
        PUSH_APPS_FILE: appsFile,
        LOG_LEVEL: 'warn',
        NODE_ENV: 'test',
        ROUTING_FANOUT_GROUP: uniqueId('routing-fanout'),
        ROUTING_DECIDE_GROUP: uniqueId('routing-decide'),
        ROUTING_NEW_GROUP_START: 'earliest',
      },
    });
    dispatcher = await startDispatcher(dispatcherEnv(broker.brokers, appsFile));

    const token = apnsToken();
    const bob = uniqueId('bob');
    await publishTokens(producer, bob, [apnsDevice('bob-iphone', token)]);
    await publishPresence(producer, bob, [{ deviceId: 'bob-iphone', status: 'push_online' }]);
    const decider = routing.get(DecideConsumer);
    await waitFor(
      () =>
        decider.state.tokens.get(`demo:${bob}`) !== undefined &&
        decider.state.presence.get(`demo:${bob}`) !== undefined,
      { what: "routing knows bob's devices and presence", timeoutMs: 60000 },
    );
    exporter.reset();

    const messageId = uniqueId('m');
    const res = await request(routing.getHttpServer())
      .post('/v1/apps/demo/messages')
      .set(AUTH)
      .send({
        messageId,
        sentAt: new Date().toISOString(),
        conversation: { type: 'c2c', id: 'alice' },
        sender: { userId: 'alice', nickname: 'Alice' },
        recipients: [bob],
        elements: [{ type: 'text', text: 'traced' }],
      });
    expect(res.status).toBe(202);
    // Spans are picked by what the request and the fake saw, not by their trace: the record spans
    // by the request's correlation id (carried in every record), the APNs call by its apns-id.
    const correlationId: unknown = res.headers['x-correlation-id'];
    const delivered = await waitFor(() => fake.receivedFor(token)[0], {
      what: 'APNs received the push',
      timeoutMs: 60000,
    });
    const all = () => exporter.getFinishedSpans();
    const recordSpan = (topic: string, group: string) =>
      all().find(
        (s) =>
          s.name === `process ${topic}` &&
          s.attributes['push.correlation_id'] === correlationId &&
          String(s.attributes['messaging.consumer.group.name']).startsWith(group),
      );
    // Each span is exported when it ends: the dispatcher's record span after its batch committed.
    await waitFor(() => recordSpan('push.apns.request.v1', 'apns-dispatcher'), {
      what: "the dispatcher's record span",
      timeoutMs: 30000,
    });
    const spans = all();
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const parentOf = (s: ReadableSpan) => byId.get(s.parentSpanContext?.spanId ?? '');
    const ancestors = (s: ReadableSpan): ReadableSpan[] => {
      const out: ReadableSpan[] = [];
      for (let p = parentOf(s); p; p = parentOf(p)) out.push(p);
      return out;
    };
    const tree = () =>
      spans
        .map((s) => `${s.name} [${s.instrumentationScope.name}] ← ${parentOf(s)?.name ?? '-'}`)
        .join('\n');

    const http = spans.find(
      (s) =>
        s.kind === SpanKind.SERVER &&
        s.instrumentationScope.name === '@opentelemetry/instrumentation-http' &&
        s.attributes['url.path'] === '/v1/apps/demo/messages',
    );
    const fanout = recordSpan('im.message.sent.v1', 'routing-fanout');
    const decide = recordSpan('push.intent.v1', 'routing-decide');
    const dispatch = recordSpan('push.apns.request.v1', 'apns-dispatcher');
    const call = spans.find(
      (s) => s.name === 'APNs POST /3/device' && s.attributes['apns.id'] === delivered.apnsId,
    );
    const send = call && parentOf(call);
    expect({
      tree: tree(),
      found: [http, fanout, decide, dispatch, send?.name, call].map(Boolean),
    }).toEqual({ tree: tree(), found: [true, true, true, true, true, true] });
    expect(send!.name).toBe('apns send');

    // One trace, from the HTTP request span (the root: no traceparent came in) to the APNs call.
    const traceId = http!.spanContext().traceId;
    expect(http!.parentSpanContext).toBeUndefined();
    for (const s of [fanout, decide, dispatch, send, call]) {
      expect(s!.spanContext().traceId).toBe(traceId);
    }

    // The chain of parents: each Kafka hop's record span is the child of the span that produced
    // the record, directly, or through the kafkajs `send <topic>` span of that record when the
    // producer sent it with that span active (a send coalesced with other records, or made at
    // commit time, carries the platform's traceparent instead and its span only links to it).
    // The provider spans are children of the request record's span.
    const hop = (child: ReadableSpan, producer: ReadableSpan, topic: string) => {
      const p = parentOf(child);
      if (p?.kind === SpanKind.PRODUCER) {
        expect(p.name).toBe(`send ${topic}`);
        expect(parentOf(p)).toBe(producer);
      } else expect(p).toBe(producer);
    };
    expect(parentOf(send!)).toBe(dispatch);
    hop(dispatch!, decide!, 'push.apns.request.v1');
    hop(decide!, fanout!, 'push.intent.v1');
    // The message record came from inside the request, produced by the NestJS handler.
    const nest = ancestors(fanout!).filter(
      (s) => s.instrumentationScope.name === '@opentelemetry/instrumentation-nestjs-core',
    );
    const handler = nest[0];
    expect(handler?.attributes['nestjs.type']).toBe('handler');
    expect(nest.map((s) => s.attributes['http.route'])).toContain('/v1/apps/:appId/messages');
    hop(fanout!, handler, 'im.message.sent.v1');
    expect(ancestors(handler)).toContain(http);

    // The provider spans say how it went.
    expect(send!.kind).toBe(SpanKind.CLIENT);
    expect(send!.attributes).toMatchObject({
      'push.provider': 'apns',
      'push.app_id': 'demo',
      'push.send.status': 'delivered',
    });
    expect(send!.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(call!.attributes).toMatchObject({
      'http.response.status_code': 200,
      'apns.environment': 'sandbox',
      'apns.topic': 'com.example.chat',
    });
    expect(dispatch!.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.destination.name': 'push.apns.request.v1',
      'messaging.operation.type': 'process',
    });

    // The kafkajs instrumentation's per-batch `poll` traces are not recorded (the platform's
    // record spans replace them), and every record span carries the consumer group.
    expect(spans.filter((s) => s.name.startsWith('poll '))).toEqual([]);
    for (const s of spans.filter((x) => x.name.startsWith('process '))) {
      expect(s.attributes['messaging.consumer.group.name']).toBeDefined();
    }
  }, 180000);

  it('an APNs refusal is an error span with its reason', async () => {
    const token = apnsToken();
    fake.rule(token, { kind: 'error', status: 410, reason: 'Unregistered', timestamp: Date.now() });
    const dave = uniqueId('dave');
    await publishTokens(producer, dave, [apnsDevice('dave-iphone', token)]);
    await publishPresence(producer, dave, [{ deviceId: 'dave-iphone', status: 'push_online' }]);
    const decider = routing!.get(DecideConsumer);
    await waitFor(
      () =>
        decider.state.tokens.get(`demo:${dave}`) !== undefined &&
        decider.state.presence.get(`demo:${dave}`) !== undefined,
      { what: "routing knows dave's device", timeoutMs: 60000 },
    );
    // A traceparent from the caller: the request span is its child, and so is everything after.
    const traceId = hex(16);
    const res = await request(routing!.getHttpServer())
      .post('/v1/apps/demo/messages')
      .set(AUTH)
      .set('traceparent', `00-${traceId}-${hex(8)}-01`)
      .send({
        messageId: uniqueId('m'),
        sentAt: new Date().toISOString(),
        conversation: { type: 'c2c', id: 'alice' },
        sender: { userId: 'alice' },
        recipients: [dave],
        elements: [{ type: 'text', text: 'gone?' }],
      });
    expect(res.status).toBe(202);
    const send = await waitFor(
      () =>
        exporter
          .getFinishedSpans()
          .find((s) => s.name === 'apns send' && s.spanContext().traceId === traceId),
      { what: 'the refused send span', timeoutMs: 60000 },
    );
    expect(send.status).toMatchObject({
      code: SpanStatusCode.ERROR,
      message: 'invalid_token: Unregistered',
    });
    expect(send.attributes).toMatchObject({
      'push.send.status': 'invalid_token',
      'push.send.reason': 'Unregistered',
    });
    const call = exporter
      .getFinishedSpans()
      .find((s) => s.name === 'APNs POST /3/device' && s.spanContext().traceId === traceId);
    expect(call?.attributes).toMatchObject({
      'http.response.status_code': 410,
      'apns.reason': 'Unregistered',
    });
    expect(call?.status.code).toBe(SpanStatusCode.ERROR);
  }, 120000);

  it('FCM: a span per message of a sendEach, child of its record span, with status and reason', async () => {
    const fx = await startFcmFixture();
    const fcm = await startService({
      ...SERVICES.fcmDispatcher,
      env: {
        KAFKA_BROKERS: broker.brokers.join(','),
        PUSH_APPS_FILE: fx.appsFile,
        LOG_LEVEL: 'warn',
        NODE_ENV: 'test',
        FCM_GROUP_ID: uniqueId('fcm-dispatcher'),
      },
    });
    try {
      const request = (token: string): FcmRequest => ({
        jobId: uniqueId('job'),
        appId: fx.appId,
        userId: 'erin',
        deviceId: 'pixel-1',
        messageId: uniqueId('msg'),
        token,
        createdAt: new Date().toISOString(),
        expiresAt: new Date(Date.now() + 600_000).toISOString(),
        attempt: 0,
        message: { notification: { title: 'Alice', body: 'hi' }, android: { ttl: '600s' } },
      });
      // Two records of two traces, produced together (one batch, one sendEach most likely).
      const sent = [request(`ok-${hex(40)}`), request(`fake-unregistered-${hex(40)}`)].map((r) => ({
        r,
        traceId: hex(16),
        parentId: hex(8),
      }));
      await producer.send(
        sent.map(({ r, traceId, parentId }) =>
          outbound(TOPICS.fcmRequest, r, {
            context: { correlationId: uniqueId('c'), traceparent: `00-${traceId}-${parentId}-01` },
          }),
        ),
      );
      for (const { traceId, parentId } of sent) {
        const send = await waitFor(
          () =>
            exporter
              .getFinishedSpans()
              .find((s) => s.name === 'fcm send' && s.spanContext().traceId === traceId),
          { what: `the fcm send span of trace ${traceId}`, timeoutMs: 60000 },
        );
        const record = await waitFor(
          () =>
            exporter
              .getFinishedSpans()
              .find((s) => s.spanContext().spanId === send.parentSpanContext?.spanId),
          { what: "the FCM request's record span", timeoutMs: 30000 },
        );
        expect(record.name).toBe('process push.fcm.request.v1');
        expect(record.parentSpanContext?.spanId).toBe(parentId);
        expect(send.kind).toBe(SpanKind.CLIENT);
        expect(send.attributes).toMatchObject({ 'push.provider': 'fcm', 'push.app_id': fx.appId });
      }
      const [ok, gone] = sent.map(({ traceId }) =>
        exporter
          .getFinishedSpans()
          .find((s) => s.name === 'fcm send' && s.spanContext().traceId === traceId)!,
      );
      expect(ok.attributes['push.send.status']).toBe('delivered');
      expect(ok.status.code).not.toBe(SpanStatusCode.ERROR);
      expect(gone.attributes['push.send.status']).toBe('invalid_token');
      expect(gone.attributes['push.send.reason']).toBeDefined();
      expect(gone.attributes['fcm.error_code']).toBeDefined();
      expect(gone.status.code).toBe(SpanStatusCode.ERROR);
    } finally {
      await fcm.close();
      await fx.fake.stop();
    }
  }, 120000);

  /**
   * The services are webpack bundles whose node_modules stay external (Nest CLI's default
   * `webpack-node-externals`), so `require('kafkajs')` etc. are Node's own requires, which the
   * instrumentations hook. This runs the built routing bundle with an OTLP/HTTP (JSON) endpoint
   * of the test's and checks that HTTP, NestJS, kafkajs and the platform's spans arrive there, in
   * the caller's trace, and that SIGTERM flushes them.
   */
  it('the built routing bundle exports HTTP, NestJS, kafkajs and record spans over OTLP', async () => {
    const main = resolve(__dirname, '../../../dist/apps/routing/main.js');
    if (!existsSync(main)) throw new Error(`build first (npm run build): no ${main}`);
    const received: Array<{ scope: string; name: string; traceId: string; parent?: string }> = [];
    const collector: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        if (req.url === '/v1/traces') {
          const doc = JSON.parse(body) as OtlpTraces;
          for (const rs of doc.resourceSpans ?? []) {
            for (const ss of rs.scopeSpans ?? []) {
              for (const s of ss.spans ?? []) {
                received.push({
                  scope: ss.scope?.name ?? '',
                  name: s.name,
                  traceId: s.traceId,
                  parent: s.parentSpanId || undefined,
                });
              }
            }
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    const otlpPort = (collector.address() as AddressInfo).port;
    const httpPort = 13793;
    const child = spawn(process.execPath, [main], {
      env: {
        PATH: process.env.PATH,
        KAFKA_BROKERS: broker.brokers.join(','),
        PUSH_APPS_FILE: appsFile,
        HTTP_PORT: String(httpPort),
        HTTP_HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        ROUTING_DECIDE: 'false',
        ROUTING_FANOUT_GROUP: uniqueId('bundle-fanout'),
        ROUTING_NEW_GROUP_START: 'earliest',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}`,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '200',
      },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await waitFor(
        async () =>
          (await fetch(`http://127.0.0.1:${httpPort}/health/ready`).catch(() => undefined))
            ?.status === 200,
        { what: `routing bundle ready (output: ${out})`, timeoutMs: 60000 },
      );
      const traceId = hex(16);
      const res = await fetch(`http://127.0.0.1:${httpPort}/v1/apps/demo/messages`, {
        method: 'POST',
        headers: {
          ...AUTH,
          'content-type': 'application/json',
          traceparent: `00-${traceId}-${hex(8)}-01`,
        },
        body: JSON.stringify({
          messageId: uniqueId('m'),
          sentAt: new Date().toISOString(),
          conversation: { type: 'c2c', id: 'alice' },
          sender: { userId: 'alice' },
          recipients: ['nobody-with-devices'],
          elements: [{ type: 'text', text: 'bundle' }],
        }),
      });
      expect(res.status).toBe(202);
      const inTrace = () => received.filter((s) => s.traceId === traceId);
      await waitFor(() => inTrace().some((s) => s.name === 'process im.message.sent.v1'), {
        what: `the fan-out's record span over OTLP (got ${JSON.stringify(received)})`,
        timeoutMs: 30000,
      });
      const scopes = new Set(inTrace().map((s) => s.scope));
      expect([...scopes].sort()).toEqual(
        expect.arrayContaining([
          '@opentelemetry/instrumentation-http',
          '@opentelemetry/instrumentation-nestjs-core',
          '@opentelemetry/instrumentation-kafkajs',
          'offline-push',
        ]),
      );
      expect(inTrace().map((s) => s.name)).toContain('send im.message.sent.v1');
      // Probes are not traced.
      expect(received.filter((s) => s.name.includes('/health'))).toEqual([]);
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      collector.close();
    }
  }, 120000);
});

interface OtlpTraces {
  resourceSpans?: Array<{
    scopeSpans?: Array<{
      scope?: { name?: string };
      spans?: Array<{ name: string; traceId: string; parentSpanId?: string }>;
    }>;
  }>;
}
