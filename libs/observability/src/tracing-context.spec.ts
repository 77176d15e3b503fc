import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { startTracing, stopTracing, tracingRequested } from './tracing';
import {
  applyTraceparent,
  formatTraceparent,
  kafkaProducerHook,
  parseTraceparent,
  settleBatchSpans,
  traceRecords,
  tracingEnabled,
  withRecordTrace,
  type TracedRecord,
} from './tracing-context';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT = 'b7ad6b7169203331';
const TP = `00-${TRACE}-${PARENT}-01`;

const record = (over: Partial<TracedRecord> = {}): TracedRecord => ({
  topic: 'push.intent.v1',
  partition: 3,
  offset: '42',
  key: 'demo:bob',
  value: { userId: 'bob' },
  context: { correlationId: 'c-1', traceparent: TP },
  ...over,
});

describe('tracingRequested', () => {
  it('is on with an OTLP endpoint or a trace exporter, off by default, with none, or disabled', () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(
      tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }),
    ).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'console' })).toBe(true);
    expect(
      tracingRequested({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c' }),
    ).toBe(false);
    expect(
      tracingRequested({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c' }),
    ).toBe(false);
  });
});

describe('traceparent', () => {
  it('parses and formats W3C trace context, refusing malformed and all-zero ids', () => {
    const sc = parseTraceparent(TP)!;
    expect(sc).toMatchObject({ traceId: TRACE, spanId: PARENT, traceFlags: 1, isRemote: true });
    expect(formatTraceparent(sc)).toBe(TP);
    expect(parseTraceparent(`00-${'0'.repeat(32)}-${PARENT}-01`)).toBeUndefined();
    expect(parseTraceparent(`ff-${TRACE}-${PARENT}-01`)).toBeUndefined();
    expect(parseTraceparent('00-xyz')).toBeUndefined();
    expect(parseTraceparent(undefined)).toBeUndefined();
  });
});

describe('tracing off (the default)', () => {
  it('changes nothing: records keep their context, headers their traceparent', async () => {
    expect(tracingEnabled()).toBe(false);
    const r = record();
    const before = r.context;
    traceRecords({}, 'g', [r]);
    expect(r.context).toBe(before);
    const headers: Record<string, unknown> = {};
    applyTraceparent(headers, r.context, false);
    expect(headers.traceparent).toBe(TP);
    const p = Promise.resolve(1);
    expect(settleBatchSpans({}, p)).toBe(p);
    expect(withRecordTrace(r.context, () => 7)).toBe(7);
  });
});

describe('tracing on', () => {
  const exporter = new InMemorySpanExporter();
  const processor = new SimpleSpanProcessor({ exporter });
  // Exports wait for the resource's detected attributes: flushed before reading.
  const finished = async () => {
    await processor.forceFlush();
    return exporter.getFinishedSpans();
  };
  beforeAll(() => {
    startTracing('unit', {
      spanProcessors: [processor],
      instrumentations: [],
    });
  });
  afterAll(() => stopTracing());
  beforeEach(() => exporter.reset());

  it('starts a process span per record, child of its traceparent, and makes it the record context', async () => {
    const batch = {};
    const r = record();
    traceRecords(batch, 'routing-decide', [r]);
    const sc = parseTraceparent(r.context.traceparent)!;
    expect(sc.traceId).toBe(TRACE);
    expect(sc.spanId).not.toBe(PARENT);
    expect(r.context.correlationId).toBe('c-1');
    // Active while the handler runs; explicit contexts and the active span both give it.
    withRecordTrace(r.context, () => {
      expect(trace.getSpanContext(context.active())?.spanId).toBe(sc.spanId);
      const implicit: Record<string, unknown> = {};
      applyTraceparent(implicit, { correlationId: 'other' }, false);
      expect(implicit.traceparent).toBe(r.context.traceparent);
    });
    const explicit: Record<string, unknown> = {};
    applyTraceparent(explicit, r.context, true);
    expect(explicit.traceparent).toBe(r.context.traceparent);
    expect(await finished()).toEqual([]);
    await settleBatchSpans(batch, Promise.resolve());
    const [span] = await finished();
    expect(span.name).toBe('process push.intent.v1');
    expect(span.kind).toBe(SpanKind.CONSUMER);
    expect(span.parentSpanContext?.spanId).toBe(PARENT);
    expect(span.attributes).toMatchObject({
      'messaging.consumer.group.name': 'routing-decide',
      'messaging.destination.partition.id': '3',
      'messaging.kafka.offset': 42,
    });
  });

  it('ends the spans of a failed batch with an error status', async () => {
    const batch = {};
    traceRecords(batch, 'g', [record(), record({ offset: '43' })]);
    await expect(settleBatchSpans(batch, Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    );
    const spans = await finished();
    expect(spans).toHaveLength(2);
    for (const s of spans) {
      expect(s.status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' });
    }
  });

  it("kafkajs send spans: the platform's traceparent is put back unless the send span is its child", async () => {
    const tracer = trace.getTracer('t');
    const parent = tracer.startSpan('handler');
    const parentTp = formatTraceparent(parent.spanContext());
    const parentCtx = trace.setSpan(context.active(), parent);
    // Sent with the chosen span active: the send span's own traceparent (injected) stays.
    context.with(parentCtx, () => {
      const headers: Record<string, unknown> = {};
      applyTraceparent(headers, undefined, false);
      expect(headers.traceparent).toBe(parentTp);
      const send = tracer.startSpan('send t');
      headers.traceparent = formatTraceparent(send.spanContext());
      kafkaProducerHook(send, { message: { headers } });
      expect(headers.traceparent).toBe(formatTraceparent(send.spanContext()));
    });
    // Sent from another context (a coalesced send): the chosen traceparent is restored, linked.
    const headers: Record<string, unknown> = {};
    applyTraceparent(headers, { correlationId: 'c', traceparent: parentTp }, true);
    const other = tracer.startSpan('send t');
    headers.traceparent = formatTraceparent(other.spanContext());
    kafkaProducerHook(other, { message: { headers } });
    expect(headers.traceparent).toBe(parentTp);
    other.end();
    parent.end();
    const ended = (await finished()).find(
      (s) => s.spanContext().spanId === other.spanContext().spanId,
    )!;
    expect(ended.links.map((l) => l.context.spanId)).toEqual([parent.spanContext().spanId]);
  });

  it("drops the kafkajs instrumentation's per-batch consumer spans", () => {
    const tracer = trace.getTracer('@opentelemetry/instrumentation-kafkajs');
    const poll = tracer.startSpan('poll push.intent.v1', {
      kind: SpanKind.CLIENT,
      attributes: { 'messaging.system': 'kafka', 'messaging.operation.type': 'receive' },
    });
    const perMessage = tracer.startSpan('process push.intent.v1', {
      kind: SpanKind.CONSUMER,
      attributes: { 'messaging.system': 'kafka', 'messaging.operation.type': 'process' },
    });
    expect(poll.isRecording()).toBe(false);
    expect(perMessage.isRecording()).toBe(false);
    expect(tracer.startSpan('transaction').isRecording()).toBe(false);
    expect(tracer.startSpan('anything else').isRecording()).toBe(true);
  });
});
