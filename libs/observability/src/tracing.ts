/*
 * OpenTelemetry tracing, off unless configured. Each service's main.ts calls `startTracing` before
 * it imports anything else: the instrumentations patch http, pg, @nestjs/core and kafkajs when
 * those are first required, so they must be registered first. This file therefore imports nothing
 * but the OpenTelemetry API and `tracing-context` (no Nest, no Kafka), and requires the SDK only
 * once tracing is on: while it is off, no SDK module is loaded and nothing is patched.
 *
 * The settings are OpenTelemetry's own (read here and by the SDK, the one exception to "only
 * libs/config reads the environment", since they must be read before anything else loads):
 * OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_TRACES_EXPORTER turn it
 * on; see docs/observability.md.
 */
import {
  SamplingDecision as ApiSamplingDecision,
  SpanKind,
  trace,
  type Attributes,
  type Context,
  type Link,
} from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { Sampler, SamplingResult, SpanProcessor } from '@opentelemetry/sdk-trace';
import { kafkaProducerHook, setPlatformTracer, tracingEnabled } from './tracing-context';

export interface TracingOptions {
  /** The environment to read (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /**
   * Where spans go instead of the exporter the environment names (tests: an in-memory exporter).
   * Giving them turns tracing on whatever the environment says.
   */
  spanProcessors?: SpanProcessor[];
  /** Instead of the default set (HTTP, pg, NestJS core, kafkajs). */
  instrumentations?: Instrumentation[];
}

const truthy = (v: string | undefined) => ['true', '1', 'yes'].includes((v ?? '').toLowerCase());

/**
 * Whether the environment asks for traces: an OTLP endpoint, or a trace exporter other than
 * `none`; never with OTEL_SDK_DISABLED=true.
 */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (truthy(env.OTEL_SDK_DISABLED)) return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '' && s !== 'null');
  if (exporters.length > 0) return !(exporters.length === 1 && exporters[0] === 'none');
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

let sdk: { shutdown(): Promise<void> } | undefined;

/* eslint-disable @typescript-eslint/no-require-imports -- loaded only when tracing is on */
type SdkTrace = typeof import('@opentelemetry/sdk-trace');
const sdkTrace = (): SdkTrace => require('@opentelemetry/sdk-trace') as SdkTrace;

/**
 * The services' instrumentations: HTTP (no spans for probes, scrapes and the API documents), pg
 * (inside a trace only), NestJS core, kafkajs (its `send` spans reconciled with the platform's
 * `traceparent` by `kafkaProducerHook`).
 */
export function platformInstrumentations(): Instrumentation[] {
  const { HttpInstrumentation } =
    require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { PgInstrumentation } =
    require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { NestInstrumentation } =
    require('@opentelemetry/instrumentation-nestjs-core') as typeof import('@opentelemetry/instrumentation-nestjs-core');
  const { KafkaJsInstrumentation } =
    require('@opentelemetry/instrumentation-kafkajs') as typeof import('@opentelemetry/instrumentation-kafkajs');
  return [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (req) => {
        const url = req.url ?? '';
        return url.startsWith('/health') || url === '/metrics' || url.startsWith('/docs');
      },
      // The OAuth token refreshes of firebase-admin outside any send: no root spans of their own.
      requireParentforOutgoingSpans: true,
    }),
    // The outbox relay polls the database all the time: only queries inside a trace are spans.
    // Query parameters (tokens) are never recorded (enhancedDatabaseReporting stays off).
    new PgInstrumentation({ requireParentSpan: true }),
    new NestInstrumentation(),
    new KafkaJsInstrumentation({ producerHook: kafkaProducerHook }),
  ];
}

/** OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG as the SDK reads them (parent-based always-on by default). */
function samplerFromEnv(env: NodeJS.ProcessEnv): Sampler {
  const t = sdkTrace();
  const arg = Number(env.OTEL_TRACES_SAMPLER_ARG);
  const ratio = () => new t.TraceIdRatioBasedSampler(arg >= 0 && arg <= 1 ? arg : 1);
  switch (env.OTEL_TRACES_SAMPLER) {
    case 'always_on':
      return new t.AlwaysOnSampler();
    case 'always_off':
      return new t.AlwaysOffSampler();
    case 'traceidratio':
      return ratio();
    case 'parentbased_always_off':
      return new t.ParentBasedSampler({ root: new t.AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new t.ParentBasedSampler({ root: ratio() });
    default:
      return new t.ParentBasedSampler({ root: new t.AlwaysOnSampler() });
  }
}
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * Drops the kafkajs instrumentation's consumer spans: for every fetched batch it starts a root
 * `poll <topic>` span (a new trace per batch) with a `process <topic>` child per message. The
 * consumer runner starts its own `process` span per handled record instead, in the record's trace
 * (they carry `messaging.consumer.group.name`, which the instrumentation's do not). Everything the
 * runner's commit sends inside a dropped `poll` span is dropped with it (parent-based sampling);
 * sends from HTTP requests keep their `send <topic>` spans. Its root `transaction` spans (the
 * runner registering transactional ids) are dropped too.
 */
class PlatformSampler implements Sampler {
  constructor(private readonly inner: Sampler) {}

  shouldSample(
    ctx: Context,
    traceId: string,
    name: string,
    kind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    const op = attributes['messaging.operation.type'];
    const kafkajsBatch =
      (kind === SpanKind.CLIENT && op === 'receive') ||
      (kind === SpanKind.CONSUMER &&
        op === 'process' &&
        attributes['messaging.consumer.group.name'] === undefined);
    // Its `transaction` spans outside a batch (the runner fencing a partition's transactional id).
    const kafkajsTransaction = name === 'transaction' && trace.getSpanContext(ctx) === undefined;
    if ((kafkajsBatch && attributes['messaging.system'] === 'kafka') || kafkajsTransaction) {
      return { decision: ApiSamplingDecision.NOT_RECORD };
    }
    return this.inner.shouldSample(ctx, traceId, name, kind, attributes, links);
  }

  toString(): string {
    return `PlatformSampler{${this.inner.toString()}}`;
  }
}

/**
 * Starts the OpenTelemetry SDK for a service when the environment asks for traces (or span
 * processors are given); returns whether tracing is on. Call it first thing in main.ts, before
 * any other import is evaluated. The exporter, protocol, endpoint, headers, sampler and resource
 * come from the standard OTEL_* settings (default: OTLP over HTTP/protobuf).
 */
export function startTracing(serviceName: string, opts: TracingOptions = {}): boolean {
  if (sdk) return true;
  const env = opts.env ?? process.env;
  if (!opts.spanProcessors && !tracingRequested(env)) return false;
  const { NodeSDK } =
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const nodeSdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME || serviceName,
    instrumentations: opts.instrumentations ?? platformInstrumentations(),
    // Undefined: the exporters OTEL_TRACES_EXPORTER names (default otlp), in batch processors.
    spanProcessors: opts.spanProcessors,
    sampler: new PlatformSampler(samplerFromEnv(env)),
    // Traces only: metrics stay Prometheus (/metrics), logs stay JSON on stdout.
    metricReaders: [],
    logRecordProcessors: [],
  });
  nodeSdk.start();
  sdk = nodeSdk;
  setPlatformTracer(trace.getTracer('offline-push'));
  return true;
}

export { tracingEnabled };

/**
 * Flushes the spans still buffered and stops the SDK (on shutdown). Never rejects, and gives up
 * after `timeoutMs` (an unreachable collector must not hold the exit); a no-op when off.
 */
export async function stopTracing(timeoutMs = 3000): Promise<void> {
  const s = sdk;
  sdk = undefined;
  setPlatformTracer(undefined);
  if (!s) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    s.shutdown().catch(() => undefined),
    new Promise<void>((r) => {
      timer = setTimeout(r, timeoutMs);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}
