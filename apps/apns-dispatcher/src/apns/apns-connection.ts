import { Logger } from '@nestjs/common';
import { dispatchMetrics, parseRetryAfter } from '@app/dispatch';
import apn from '@parse/node-apn';
import type { ClientHttp2Session, ClientHttp2Stream, OutgoingHttpHeaders } from 'node:http2';
import { classifyNodeApnFailure } from './node-apn-answer.util';
import type { ApnsRawAnswer } from './apns-response.classifier';

/**
 * One APNs request as node-apn's client sends it: the `apns-*` headers and the JSON body
 * (what `Provider.send` makes of a `Notification`, built once per job by the sender instead).
 */
export interface ApnsHttpRequest {
  headers: Record<string, string | number>;
  body: string;
}

/** node-apn's client internals this class relies on (checked against @parse/node-apn 8.1). */
interface NodeApnClient {
  session?: ClientHttp2Session;
  connect(): Promise<void>;
  /**
   * One request to one device (what `Provider.send` calls per recipient): resolves on 2xx,
   * rejects with `{ device, status, response }` or `{ device, error }`. Never retries here
   * (`connectionRetryLimit: 0`); an ExpiredProviderToken answer regenerates the provider token.
   */
  write(request: ApnsHttpRequest, device: string, type: 'device', method: 'post'): Promise<unknown>;
}

interface GuardedSend {
  deadline: number;
  settle: (a: ApnsRawAnswer) => void;
}

const settled = (v: unknown): ApnsRawAnswer =>
  v !== null && typeof v === 'object' && ('status' in v || 'error' in v)
    ? classifyNodeApnFailure(v)
    : { sent: true };

export interface ApnsConnectionOptions {
  label: { app: string; environment: string };
  providerOptions: apn.ProviderOptions;
  requestTimeoutMs: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  stuckAfterTimeouts: number;
}

/**
 * One node-apn Provider, i.e. one HTTP/2 session to APNs, watched by a health check:
 * - a PING every `pingIntervalMs`; none answered within `pingTimeoutMs` (a dead or silent peer,
 *   or a TLS handshake that never completes) destroys the session, failing its in-flight streams;
 * - `stuckAfterTimeouts` consecutive send timeouts do the same;
 * - every send is also bounded by a guard above node-apn's own timeout, because a stream of a
 *   destroyed session can end without any event node-apn listens to and its promise would hang.
 * node-apn opens a fresh session on the next send. Its internal retries are off
 * (`connectionRetryLimit: 0`): they ignore Retry-After and retry 429/5xx at once.
 */
export class ApnsConnection {
  private readonly logger = new Logger(ApnsConnection.name);
  private readonly provider: apn.Provider;
  private readonly client: NodeApnClient;
  /** apns-id -> Retry-After (ms), read from response headers before node-apn drops them. */
  private readonly retryAfter = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private readonly sweeper: NodeJS.Timeout;
  /** Sends in flight with the time by which node-apn must have settled them. */
  private readonly guarded = new Set<GuardedSend>();
  private consecutiveTimeouts = 0;
  private pingOutstanding = false;
  private sessionBornAt = 0;
  private closed = false;
  inFlight = 0;

  constructor(private readonly opts: ApnsConnectionOptions) {
    this.provider = new apn.Provider({
      ...opts.providerOptions,
      connectionRetryLimit: 0,
      requestTimeout: opts.requestTimeoutMs,
      // node-apn's own ping only logs; ours below acts.
      heartBeat: 3_600_000,
    });
    this.client = (this.provider as unknown as { client: NodeApnClient }).client;
    this.instrumentConnect();
    this.timer = setInterval(() => this.healthCheck(), opts.pingIntervalMs);
    this.timer.unref();
    this.sweeper = setInterval(() => this.sweep(), 250);
    this.sweeper.unref();
  }

  /**
   * Sends one request to one device; never rejects (every failure is an answer). One promise per
   * send besides node-apn's own: the answer is settled by node-apn or by the guard's sweep,
   * whichever comes first.
   */
  send(request: ApnsHttpRequest, token: string, apnsId: string): Promise<ApnsRawAnswer> {
    this.inFlight++;
    return new Promise<ApnsRawAnswer>((resolve) => {
      const entry: GuardedSend = {
        deadline: Date.now() + this.opts.requestTimeoutMs + 1000,
        settle: (answer) => {
          if (!this.guarded.delete(entry)) return; // settled already (node-apn or the sweep)
          this.inFlight--;
          const ra = this.retryAfter.get(apnsId);
          if (ra !== undefined) {
            this.retryAfter.delete(apnsId);
            answer.retryAfterMs = ra;
          }
          this.noteOutcome(answer);
          resolve(answer);
        },
      };
      this.guarded.add(entry);
      this.client.write(request, token, 'device', 'post').then(
        (v) => entry.settle(settled(v)),
        (f: unknown) => entry.settle(classifyNodeApnFailure(f)),
      );
    });
  }

  /** Settles sends node-apn never settled (one sweep instead of a timer per send). */
  private sweep(): void {
    const now = Date.now();
    for (const e of this.guarded) {
      if (e.deadline <= now) e.settle({ sent: false, error: 'send guard timeout' });
    }
  }

  /** False while the connection is being replaced or after close. */
  get usable(): boolean {
    return !this.closed;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    clearInterval(this.sweeper);
    this.sweep();
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 2000);
      t.unref();
      void this.provider.shutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private noteOutcome(a: ApnsRawAnswer): void {
    if (a.status !== undefined) {
      this.consecutiveTimeouts = 0;
      return;
    }
    if (/timeout/i.test(a.error ?? '')) {
      this.consecutiveTimeouts++;
      if (this.consecutiveTimeouts >= this.opts.stuckAfterTimeouts) this.replace('stuck');
    }
  }

  /** Destroys the current session (its streams fail, their sends are retried by policy). */
  private replace(cause: string): void {
    const session = this.client.session;
    this.consecutiveTimeouts = 0;
    this.pingOutstanding = false;
    if (!session || session.destroyed) return;
    this.logger.warn({ msg: 'replacing APNs session', cause, ...this.opts.label });
    dispatchMetrics.reconnects.inc({ provider: 'apns', ...this.opts.label, cause });
    session.destroy(new Error(`APNs session replaced: ${cause}`));
  }

  private healthCheck(): void {
    const session = this.client.session;
    if (this.closed || !session || session.destroyed || session.closed) return;
    if (session.connecting) {
      // A TLS handshake that never completes: no PING can be sent, so time the handshake itself.
      if (Date.now() - this.sessionBornAt > this.opts.pingTimeoutMs + this.opts.pingIntervalMs) {
        this.replace('connect_timeout');
      }
      return;
    }
    if (this.pingOutstanding) return;
    this.pingOutstanding = true;
    const t = setTimeout(() => {
      if (this.pingOutstanding && this.client.session === session) this.replace('ping_timeout');
    }, this.opts.pingTimeoutMs);
    t.unref();
    try {
      session.ping((err) => {
        clearTimeout(t);
        this.pingOutstanding = false;
        if (err && this.client.session === session && !session.destroyed) {
          this.replace('ping_error');
        }
      });
    } catch {
      clearTimeout(t);
      this.pingOutstanding = false;
    }
  }

  /**
   * Wraps node-apn's `connect` so that each new session's streams report `retry-after` (node-apn
   * reads `Retry-After` in the wrong case and then deletes it) and the session's birth is known.
   */
  private instrumentConnect(): void {
    const original = this.client.connect.bind(this.client);
    this.client.connect = async () => {
      await original();
      const session = this.client.session;
      if (!session || (session as { instrumented?: boolean } & ClientHttp2Session).instrumented) {
        return;
      }
      (session as { instrumented?: boolean } & ClientHttp2Session).instrumented = true;
      this.sessionBornAt = Date.now();
      this.consecutiveTimeouts = 0;
      session.on('goaway', () => {
        dispatchMetrics.reconnects.inc({ provider: 'apns', ...this.opts.label, cause: 'goaway' });
      });
      const request = session.request.bind(session);
      session.request = (headers?: OutgoingHttpHeaders, options?: object): ClientHttp2Stream => {
        const stream = request(headers, options);
        const id = headers?.['apns-id'];
        if (typeof id === 'string') {
          stream.once('response', (h) => {
            const ms = parseRetryAfter(h['retry-after']);
            if (ms !== undefined) this.retryAfter.set(id, ms);
          });
        }
        return stream;
      };
    };
  }
}
