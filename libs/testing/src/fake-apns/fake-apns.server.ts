import http2, {
  type Http2SecureServer,
  type IncomingHttpHeaders,
  type Http2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { JwtChecker, type TrustedKey } from './jwt-check';
import {
  isPerEnv,
  type ApnsEnv,
  type FakeApnsReceived,
  type FakeApnsRule,
  type FakeApnsTokenRule,
} from './fake-apns.rules';
import type { TlsMaterial } from '../tls-material';

const { constants } = http2;
const PUSH_TYPES = new Set([
  'alert',
  'background',
  'voip',
  'complication',
  'fileprovider',
  'mdm',
  'location',
  'liveactivity',
  'pushtotalk',
  'widgets',
]);
/** Push types whose topic is the bundle id with a suffix. */
const TOPIC_SUFFIX_OF: Record<string, string> = {
  voip: '.voip',
  liveactivity: '.push-type.liveactivity',
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TOKEN = /^[0-9a-f]{64,200}$/i;

export interface FakeApnsOptions {
  tls: TlsMaterial;
  keys: TrustedKey[];
  /** Topics the keys may push to; a request for another gets 400 TopicDisallowed. */
  topics: string[];
  port?: number;
  host?: string;
  /** Answer for tokens without a rule (default ok). */
  defaultRule?: FakeApnsRule;
  /** Keep every received request in memory (tests: yes; the benchmark: counts only). */
  record?: boolean;
  /** Concurrent streams advertised per session (Apple: 1000 at most, often fewer). */
  maxConcurrentStreams?: number;
  /**
   * Told of every answer given by a rule (status 0: reset, GOAWAY or no answer), without keeping
   * it: long runs count deliveries per apns-id here instead of recording every request.
   */
  observe?: (answer: FakeApnsAnswer) => void;
}

/** One answer as `observe` sees it. */
export interface FakeApnsAnswer {
  token: string;
  apnsId: string | undefined;
  environment: ApnsEnv;
  status: number;
  at: number;
  /** The payload's top-level `ext` when it is a string (the benchmark keys arrivals by it). */
  ext?: string;
}

/** A fault applied to every token (before the per-token rules), to a fraction of the requests. */
export interface FakeApnsFault {
  rule: FakeApnsRule;
  /** 0..1, default 1: the share of requests the fault answers. */
  fraction?: number;
}

/**
 * A local APNs: TLS HTTP/2, checks what Apple checks (provider token, path, topic, push type,
 * payload size, apns-id format) and answers each device token by a rule. Used by tests, the demo
 * and the benchmark; it records what it received so tests can count deliveries.
 */
export class FakeApns {
  private server?: Http2SecureServer;
  private readonly jwt: JwtChecker;
  private readonly rules = new Map<string, FakeApnsTokenRule>();
  private readonly hits = new Map<string, number>();
  private readonly held = new Set<ServerHttp2Stream>();
  /** Sessions that sent a graceful GOAWAY, with its last stream id. */
  private readonly goneAway = new WeakMap<Http2Session, number>();
  private rejectIssuedBefore = 0;
  private fault?: FakeApnsFault;
  readonly received: FakeApnsReceived[] = [];
  readonly counts = { requests: 0, byStatus: new Map<number, number>(), sessions: 0 };
  port = 0;

  constructor(private readonly opts: FakeApnsOptions) {
    this.jwt = new JwtChecker(opts.keys);
  }

  async start(): Promise<this> {
    const server = http2.createSecureServer({
      key: this.opts.tls.key,
      cert: this.opts.tls.cert,
      allowHTTP1: false,
      settings: { maxConcurrentStreams: this.opts.maxConcurrentStreams ?? 1000 },
      // Certificate auth: a client certificate signed by the test CA stands in for a provider token.
      requestCert: true,
      rejectUnauthorized: false,
      ca: this.opts.tls.ca,
    });
    server.on('session', () => this.counts.sessions++);
    server.on('stream', (stream, headers) => this.onStream(stream, headers));
    server.on('sessionError', () => undefined);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.held) s.close(constants.NGHTTP2_CANCEL);
    this.held.clear();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Sessions kept alive by clients would hold close() open.
      setTimeout(resolve, 500).unref();
    });
  }

  /** Sets how the fake answers one device token. */
  rule(token: string, rule: FakeApnsTokenRule): this {
    this.rules.set(token.toLowerCase(), rule);
    return this;
  }

  /**
   * Answers every token by `fault.rule` (429 with retry-after, 503, slow, reset, GOAWAY, ...) for
   * `fault.fraction` of the requests, ahead of the per-token rules; `undefined` ends the fault.
   */
  setFault(fault: FakeApnsFault | undefined): this {
    this.fault = fault;
    return this;
  }

  /** The fault in force, if any. */
  currentFault(): FakeApnsFault | undefined {
    return this.fault;
  }

  /** Provider tokens issued before this time (epoch seconds) get 403 ExpiredProviderToken. */
  expireTokensIssuedBefore(epochSeconds: number): void {
    this.rejectIssuedBefore = epochSeconds;
  }

  receivedFor(token: string): FakeApnsReceived[] {
    const t = token.toLowerCase();
    return this.received.filter((r) => r.token === t);
  }

  /** After a graceful GOAWAY, streams above its last stream id are refused, never processed. */
  private refusedAfterGoaway(stream: ServerHttp2Stream): boolean {
    const last = stream.session ? this.goneAway.get(stream.session) : undefined;
    if (last === undefined || (stream.id ?? 0) <= last) return false;
    this.bump(0);
    stream.close(constants.NGHTTP2_REFUSED_STREAM);
    return true;
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', () => undefined);
    if (this.refusedAfterGoaway(stream)) return;
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 8192) chunks.push(c);
    });
    stream.on('end', () => this.answer(stream, headers, Buffer.concat(chunks), size));
  }

  private answer(
    stream: ServerHttp2Stream,
    h: IncomingHttpHeaders,
    body: Buffer,
    size: number,
  ): void {
    if (this.refusedAfterGoaway(stream)) return;
    this.counts.requests++;
    const apnsId = h['apns-id'] as string | undefined;
    (stream as ServerHttp2Stream & { apnsId?: string }).apnsId = apnsId;
    const reply = (status: number, reason?: string, extra: Record<string, string> = {}) => {
      this.bump(status);
      if (stream.destroyed) return;
      const out: Record<string, string | number> = { ':status': status, ...extra };
      if (apnsId) out['apns-id'] = apnsId;
      if (!reason) {
        stream.respond(out, { endStream: true });
        return;
      }
      stream.respond({ ...out, 'content-type': 'application/json' });
      stream.end(JSON.stringify({ reason }));
    };
    if (h[':method'] !== 'POST') return reply(405, 'MethodNotAllowed');
    const m = /^\/3\/device\/([^/?]+)$/.exec(h[':path'] ?? '');
    if (!m) return reply(404, 'BadPath');
    const socket = stream.session?.socket as TLSSocket | undefined;
    const certified = !h.authorization && socket?.authorized === true;
    if (!certified) {
      const auth = this.jwt.check(h.authorization);
      if (!auth.ok) return reply(auth.status, auth.reason);
    }
    if (
      !certified &&
      this.rejectIssuedBefore &&
      this.iat(h.authorization as string) < this.rejectIssuedBefore
    ) {
      return reply(403, 'ExpiredProviderToken');
    }
    const token = m[1].toLowerCase();
    if (!TOKEN.test(token)) return reply(400, 'BadDeviceToken');
    if (apnsId !== undefined && !UUID.test(apnsId)) return reply(400, 'BadMessageId');
    const topic = h['apns-topic'] as string | undefined;
    if (!topic) return reply(400, 'MissingTopic');
    if (!this.opts.topics.includes(topic)) return reply(400, 'TopicDisallowed');
    const pushType = h['apns-push-type'] as string | undefined;
    if (!pushType || !PUSH_TYPES.has(pushType)) return reply(400, 'InvalidPushType');
    // Apple: VoIP pushes go to `<bundle>.voip`, Live Activity pushes to `<bundle>.push-type.liveactivity`.
    const suffix = TOPIC_SUFFIX_OF[pushType];
    if (suffix && !topic.endsWith(suffix)) return reply(400, 'TopicDisallowed');
    if (size > 4096) return reply(413, 'PayloadTooLarge');
    if (size === 0) return reply(400, 'PayloadEmpty');
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return reply(400, 'BadPayload');
    }
    const environment: ApnsEnv = String(h[':authority'] ?? '').startsWith('api.sandbox.')
      ? 'sandbox'
      : 'production';
    const rule = this.ruleFor(token, environment);
    const rec: FakeApnsReceived | undefined =
      this.opts.record === false
        ? undefined
        : {
            token,
            environment,
            apnsId,
            topic,
            pushType,
            priority: h['apns-priority'] as string | undefined,
            collapseId: h['apns-collapse-id'] as string | undefined,
            expiration: h['apns-expiration'] as string | undefined,
            payload,
            status: 0,
            at: Date.now(),
          };
    if (rec) this.received.push(rec);
    const observe = this.opts.observe;
    if (observe && ['reset', 'goaway', 'silent'].includes(rule.kind)) {
      observe({ token, apnsId, environment, status: 0, at: Date.now() });
    }
    const ext = observe && typeof payload.ext === 'string' ? payload.ext : undefined;
    this.apply(stream, rule, (status, reason, extra) => {
      if (rec) rec.status = status;
      observe?.({ token, apnsId, environment, status, at: Date.now(), ext });
      reply(status, reason, extra);
    });
  }

  private apply(
    stream: ServerHttp2Stream,
    rule: FakeApnsRule,
    reply: (status: number, reason?: string, extra?: Record<string, string>) => void,
  ): void {
    switch (rule.kind) {
      case 'ok':
        return reply(200);
      case 'error': {
        const extra: Record<string, string> = {};
        if (rule.retryAfterSeconds !== undefined) {
          extra['retry-after'] = String(rule.retryAfterSeconds);
        }
        if (rule.timestamp === undefined) return reply(rule.status, rule.reason, extra);
        this.bump(rule.status);
        if (stream.destroyed) return;
        const id = apnsIdOf(stream);
        stream.respond({
          ':status': rule.status,
          'content-type': 'application/json',
          ...(id ? { 'apns-id': id } : {}),
          ...extra,
        });
        stream.end(JSON.stringify({ reason: rule.reason, timestamp: rule.timestamp }));
        return;
      }
      case 'slow': {
        const t = setTimeout(
          () => this.apply(stream, rule.then ?? { kind: 'ok' }, reply),
          rule.delayMs,
        );
        stream.once('close', () => clearTimeout(t));
        return;
      }
      case 'reset':
        this.bump(0);
        return stream.close(constants.NGHTTP2_INTERNAL_ERROR);
      case 'goaway': {
        this.bump(0);
        const session = stream.session;
        // lastStreamId below this stream: the client must treat it as refused and retry it.
        const last = Math.max(0, (stream.id ?? 2) - 2);
        if (!rule.graceful) {
          session?.goaway(constants.NGHTTP2_NO_ERROR, last);
          setTimeout(() => session?.destroy(), 50).unref();
          return;
        }
        if (!session || this.goneAway.has(session)) {
          stream.close(constants.NGHTTP2_REFUSED_STREAM);
          return;
        }
        this.goneAway.set(session, last);
        session.goaway(constants.NGHTTP2_NO_ERROR, last);
        stream.close(constants.NGHTTP2_REFUSED_STREAM);
        // No new streams; the open ones (up to `last`) finish, then the session ends.
        session.close();
        return;
      }
      case 'silent':
        this.bump(0);
        this.held.add(stream);
        stream.once('close', () => this.held.delete(stream));
        return;
      case 'sequence':
        return; // resolved in ruleFor
    }
  }

  private ruleFor(token: string, env: ApnsEnv): FakeApnsRule {
    const f = this.fault;
    if (f && (f.fraction === undefined || f.fraction >= 1 || Math.random() < f.fraction)) {
      return f.rule.kind === 'sequence' ? (f.rule.steps[0] ?? { kind: 'ok' }) : f.rule;
    }
    const r = this.rules.get(token);
    let rule: FakeApnsRule = this.opts.defaultRule ?? { kind: 'ok' };
    if (r) rule = isPerEnv(r) ? (r[env] ?? { kind: 'ok' }) : r;
    if (rule.kind !== 'sequence') return rule;
    const key = `${env}:${token}`;
    const n = this.hits.get(key) ?? 0;
    this.hits.set(key, n + 1);
    return rule.steps[Math.min(n, rule.steps.length - 1)] ?? { kind: 'ok' };
  }

  private iat(authorization: string): number {
    try {
      const claims = JSON.parse(
        Buffer.from(authorization.split('.')[1], 'base64url').toString(),
      ) as { iat?: number };
      return claims.iat ?? 0;
    } catch {
      return 0;
    }
  }

  private bump(status: number): void {
    this.counts.byStatus.set(status, (this.counts.byStatus.get(status) ?? 0) + 1);
  }
}

const apnsIdOf = (stream: ServerHttp2Stream): string | undefined =>
  (stream as ServerHttp2Stream & { apnsId?: string }).apnsId;

/** A peer that accepts TCP connections and never says a word (not even the TLS handshake). */
export async function startSilentPeer(): Promise<{ port: number; stop: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    stop: () =>
      new Promise<void>((r) => {
        sockets.forEach((s) => s.destroy());
        server.close(() => r());
      }),
  };
}
