import {
  context,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanContext,
  type Tracer,
} from '@opentelemetry/api';
import type { RecordContext } from './record-context';

/*
 * The platform's own spans and the trace context it carries through Kafka. Every function here is
 * a no-op (one check) while tracing is off, which is the default: `startTracing` (tracing.ts)
 * turns it on when an OTLP endpoint or a trace exporter is configured.
 *
 * How a trace follows a push: the `traceparent` header of each record (W3C) names the span that
 * produced it; the consumer runner starts one `process <topic>` span per handled record as its
 * child and makes that span the record's `RecordContext.traceparent`, so that whatever the
 * handler produces for the record carries the child on. Provider calls are children of the
 * span of the request record they send.
 */

let tracer: Tracer | undefined;

/** Set by `startTracing` / `stopTracing` only. */
export function setPlatformTracer(t: Tracer | undefined): void {
  tracer = t;
}

export const tracingEnabled = (): boolean => tracer !== undefined;

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A W3C `traceparent` as a remote span context; undefined when malformed or all zeros. */
export function parseTraceparent(value: string | undefined): SpanContext | undefined {
  const m = value ? TRACEPARENT.exec(value) : null;
  if (!m || m[1] === 'ff') return undefined;
  const sc: SpanContext = {
    traceId: m[2],
    spanId: m[3],
    traceFlags: parseInt(m[4], 16) & 1,
    isRemote: true,
  };
  return isSpanContextValid(sc) ? sc : undefined;
}

export const formatTraceparent = (sc: SpanContext): string =>
  `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;

/** The OpenTelemetry context (with its span) of a record's `RecordContext` or of its value. */
const spanContexts = new WeakMap<object, Context>();
/** The record spans started for a kafkajs batch, ended when its handling settles. */
const batchSpans = new WeakMap<object, Span[]>();
/** The traceparent the platform chose for an outgoing record, by its headers object. */
const outgoing = new WeakMap<object, string>();

/** What the runner knows of a consumed record (structurally `ConsumedRecord`). */
export interface TracedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: unknown;
  context: RecordContext;
}

/**
 * Starts a `process <topic>` span (kind CONSUMER) for each record, child of the record's
 * `traceparent` (a new trace without one), and makes it the record's context: its
 * `traceparent` becomes the span's, so records produced with that context are its children. The
 * spans end when `settleBatchSpans` sees the batch's handling end (after its commit).
 */
export function traceRecords(batch: object, group: string, records: TracedRecord[]): void {
  if (!tracer || records.length === 0) return;
  const spans = batchSpans.get(batch) ?? [];
  for (const r of records) {
    const remote = parseTraceparent(r.context.traceparent);
    const parent = remote ? trace.setSpanContext(ROOT_CONTEXT, remote) : ROOT_CONTEXT;
    const attributes: Attributes = {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': r.topic,
      'messaging.destination.partition.id': String(r.partition),
      'messaging.consumer.group.name': group,
      'messaging.kafka.offset': Number(r.offset),
      'push.correlation_id': r.context.correlationId,
    };
    if (r.key !== null) attributes['messaging.kafka.message.key'] = r.key;
    if (r.value === null) attributes['messaging.kafka.message.tombstone'] = true;
    const span = tracer.startSpan(
      `process ${r.topic}`,
      { kind: SpanKind.CONSUMER, attributes },
      parent,
    );
    const ctx = trace.setSpan(parent, span);
    r.context = { ...r.context, traceparent: formatTraceparent(span.spanContext()) };
    spanContexts.set(r.context, ctx);
    if (typeof r.value === 'object' && r.value !== null) spanContexts.set(r.value, ctx);
    spans.push(span);
  }
  batchSpans.set(batch, spans);
}

/** Ends the batch's record spans once `handling` settles (status ERROR when it failed). */
export function settleBatchSpans<T>(batch: object, handling: Promise<T>): Promise<T> {
  if (!tracer) return handling;
  const end = (err?: unknown) => {
    const spans = batchSpans.get(batch);
    batchSpans.delete(batch);
    for (const s of spans ?? []) {
      if (err !== undefined) failSpan(s, err);
      s.end();
    }
  };
  return handling.then(
    (v) => {
      end();
      return v;
    },
    (e: unknown) => {
      end(e ?? new Error('batch failed'));
      throw e;
    },
  );
}

/** Runs `fn` with the record's span active (its OpenTelemetry context), when it has one. */
export function withRecordTrace<T>(ctx: RecordContext, fn: () => T): T {
  const c = tracer ? spanContexts.get(ctx) : undefined;
  return c ? context.with(c, fn) : fn();
}

/**
 * Sets the `traceparent` header of an outgoing record. Tracing off: the context's, as always.
 * Tracing on: the given context's when the caller passed one (a consumed record's span), else the
 * active span's (the HTTP request's), else the current context's.
 */
export function applyTraceparent(
  headers: Record<string, unknown>,
  ctx: RecordContext | undefined,
  explicit: boolean,
): void {
  let tp = ctx?.traceparent;
  if (tracer) {
    if (!explicit) {
      const active = trace.getSpanContext(context.active());
      if (active && isSpanContextValid(active)) tp = formatTraceparent(active);
    }
    if (tp) outgoing.set(headers, tp);
  }
  if (tp) headers.traceparent = tp;
}

/**
 * The kafkajs instrumentation's `producerHook`. That instrumentation starts a `send` span per
 * record, child of whatever context is active when the producer sends (a coalesced send carries
 * records of many traces), and injects that span's `traceparent` into the record. When the send
 * span is the child of the very span the platform chose, its header continues the chain; otherwise
 * the platform's `traceparent` is put back and the send span only links to it.
 */
export function kafkaProducerHook(
  span: Span,
  info: { message: { headers?: Record<string, unknown> } },
): void {
  const headers = info.message.headers;
  const intended = headers ? outgoing.get(headers) : undefined;
  if (!headers || !intended) return;
  const sc = parseTraceparent(intended);
  const active = trace.getSpanContext(context.active());
  if (sc && active && active.traceId === sc.traceId && active.spanId === sc.spanId) return;
  headers.traceparent = intended;
  if (sc) span.addLink({ context: sc });
}

/** What a provider send came to (structurally the dispatch library's `SendResult`). */
export interface ProviderOutcome {
  kind: string;
  code?: string;
  message?: string;
}

function describeOutcome(span: Span, r: ProviderOutcome): void {
  span.setAttribute('push.send.status', r.kind);
  if (r.code) span.setAttribute('push.send.reason', r.code);
  if (r.kind !== 'delivered') {
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: r.code ? `${r.kind}: ${r.code}` : r.kind,
    });
  }
}

function failSpan(span: Span, e: unknown): void {
  const err = e instanceof Error ? e : new Error(String(e));
  span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
}

const parentOf = (request: object): Context => spanContexts.get(request) ?? context.active();

/**
 * One provider send of one request (kind CLIENT), child of the request record's span; `send` runs
 * with it active, so the calls inside (`traceProviderCall`) are its children. Status and reason
 * of the outcome become attributes (`push.send.status`, `push.send.reason`); anything but
 * `delivered` sets the span's status to ERROR.
 */
export async function traceProviderSend<T extends ProviderOutcome>(
  name: string,
  request: object,
  attributes: Attributes,
  send: () => Promise<T>,
): Promise<T> {
  if (!tracer) return send();
  const parent = parentOf(request);
  const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent);
  try {
    const r = await context.with(trace.setSpan(parent, span), send);
    describeOutcome(span, r);
    return r;
  } catch (e) {
    failSpan(span, e);
    throw e;
  } finally {
    span.end();
  }
}

/** A call to the provider inside a send (child of the active span); `describe` reads its answer. */
export async function traceProviderCall<T>(
  name: string,
  attributes: Attributes,
  call: () => Promise<T>,
  describe: (answer: T) => { attributes: Attributes; error?: string },
): Promise<T> {
  if (!tracer) return call();
  const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes });
  try {
    const answer = await call();
    const d = describe(answer);
    span.setAttributes(d.attributes);
    if (d.error) span.setStatus({ code: SpanStatusCode.ERROR, message: d.error });
    return answer;
  } catch (e) {
    failSpan(span, e);
    throw e;
  } finally {
    span.end();
  }
}

/** Spans of requests sent together in one provider call (FCM `sendEach`), one per request. */
export interface ProviderSpans {
  /** Ends request `k`'s span with its outcome. */
  end(k: number, outcome: ProviderOutcome, attributes?: Attributes): void;
}

/** Starts one span per request (child of its record's span); undefined while tracing is off. */
export function startProviderSpans(
  name: string,
  requests: object[],
  attributes: Attributes,
): ProviderSpans | undefined {
  if (!tracer) return undefined;
  const t = tracer;
  const spans = requests.map((r) =>
    t.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parentOf(r)),
  );
  return {
    end(k, outcome, extra) {
      const span = spans[k];
      if (!span) return;
      if (extra) span.setAttributes(extra);
      describeOutcome(span, outcome);
      span.end();
    },
  };
}
