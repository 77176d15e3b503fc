import { randomBytes, randomUUID, verify } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import {
  constants,
  createSecureServer,
  type ServerHttp2Stream,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  behaviourFromToken,
  FCM_ERRORS,
  googleErrorBody,
  type FakeFcmBehaviour,
} from './fake-fcm.rules';
import { checkSendBody } from './fake-fcm.validation';
import { ensureTlsMaterial, type TlsMaterial } from '../tls-material';
import { generateServiceAccount, type GeneratedServiceAccount } from './service-account';

const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const MESSAGING_SCOPES = [
  'https://www.googleapis.com/auth/firebase.messaging',
  'https://www.googleapis.com/auth/cloud-platform',
];
const SEND_PATH = /^\/v1\/projects\/([^/]+)\/messages:send$/;

export interface FakeFcmOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  tls?: TlsMaterial;
  /** Keep every send in `received` (default true; the benchmark turns it off). */
  record?: boolean;
  /** Retry-After for QUOTA_EXCEEDED when a rule gives none. */
  defaultRetryAfterSeconds?: number;
  /** Lifetime of issued access tokens. */
  accessTokenTtlSeconds?: number;
  /**
   * Told of every send answered (status 0: reset or GOAWAY, no answer), without keeping it: long
   * runs count deliveries here instead of recording every message.
   */
  observe?: (send: FakeFcmAnswer) => void;
}

/** One send as `observe` sees it. */
export interface FakeFcmAnswer {
  projectId: string;
  token: string | undefined;
  message: Record<string, unknown>;
  httpStatus: number;
  errorCode?: string;
  at: number;
}

/** A fault applied to every send (before the per-token rules), to a fraction of them. */
export interface FakeFcmFault {
  behaviour: FakeFcmBehaviour;
  /** 0..1, default 1. */
  fraction?: number;
}

/** One `messages:send` call as the fake saw it. */
export interface ReceivedSend {
  projectId: string;
  token: string | undefined;
  message: Record<string, unknown>;
  httpStatus: number;
  errorCode?: string;
  at: number;
  httpVersion: string;
}

interface Account {
  projectId: string;
  publicKey: string;
}

/**
 * A local stand-in for FCM HTTP v1 and Google's OAuth token endpoint, over TLS (HTTP/2, and
 * HTTP/1.1 for firebase-admin's legacy transport). It runs the real credential flow: a service
 * account's RS256 assertion is verified against the public half of a key generated here, and only
 * the access tokens it issued are accepted on sends, for the project they were issued for.
 * Answers per token follow registered rules, else the token's `fake-<rule>-` prefix, else success.
 */
export class FakeFcm {
  readonly received: ReceivedSend[] = [];
  tokenRequests = 0;
  sendCount = 0;
  private readonly accounts = new Map<string, Account>();
  private readonly accessTokens = new Map<string, { projectId: string; expiresAt: number }>();
  private readonly rules = new Map<string, FakeFcmBehaviour[]>();
  private readonly seen = new Map<string, number>();
  private readonly statusCounts = new Map<number, number>();
  private fault?: FakeFcmFault;

  private constructor(
    private readonly server: Http2SecureServer,
    readonly tls: TlsMaterial,
    private readonly opts: FakeFcmOptions,
  ) {}

  static async start(opts: FakeFcmOptions = {}): Promise<FakeFcm> {
    const tls = opts.tls ?? ensureTlsMaterial();
    const server = createSecureServer({ cert: tls.cert, key: tls.key, allowHTTP1: true });
    const fake = new FakeFcm(server, tls, opts);
    server.on('request', (req: Http2ServerRequest, res: Http2ServerResponse) => {
      void fake.handle(req, res).catch((e: Error) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(e.message);
      });
    });
    // Sockets left open by a killed client must not keep `stop()` waiting.
    server.on('sessionError', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
    });
    return fake;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get host(): string {
    return this.opts.host ?? '127.0.0.1';
  }

  /** The `fcm.endpoint` block of an apps file that points at this fake. */
  endpoint(): { host: string; port: number; caFile: string } {
    return { host: this.host, port: this.port, caFile: this.tls.caFile };
  }

  /** A service account for `projectId` whose key the token endpoint will accept. */
  addServiceAccount(projectId: string): GeneratedServiceAccount {
    const sa = generateServiceAccount(projectId);
    this.accounts.set(sa.json.client_email, { projectId, publicKey: sa.publicKey });
    return sa;
  }

  /** Writes a new service account's JSON into `dir` and returns the file's path. */
  writeServiceAccount(projectId: string, dir: string): string {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `service-account-${projectId}-${randomUUID().slice(0, 6)}.json`);
    writeFileSync(file, JSON.stringify(this.addServiceAccount(projectId).json, null, 2), {
      mode: 0o600,
    });
    return file;
  }

  /** Answers for `token`, in order; the last one keeps answering. */
  rule(token: string, ...behaviours: FakeFcmBehaviour[]): void {
    if (behaviours.length === 0) throw new Error('rule needs at least one behaviour');
    this.rules.set(token, behaviours);
  }

  /**
   * Answers every send by `fault.behaviour` (QUOTA_EXCEEDED with retry-after, UNAVAILABLE, slow,
   * reset, goaway) for `fault.fraction` of them, ahead of the per-token rules; `undefined` ends it.
   */
  setFault(fault: FakeFcmFault | undefined): this {
    this.fault = fault;
    return this;
  }

  currentFault(): FakeFcmFault | undefined {
    return this.fault;
  }

  sendsTo(token: string): ReceivedSend[] {
    return this.received.filter((r) => r.token === token);
  }

  stats(): { sends: number; tokenRequests: number; byStatus: Record<string, number> } {
    return {
      sends: this.sendCount,
      tokenRequests: this.tokenRequests,
      byStatus: Object.fromEntries([...this.statusCounts].map(([k, v]) => [String(k), v])),
    };
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      // Idle keep-alive connections would hold close() open.
      setTimeout(resolve, 2000).unref();
    });
  }

  private async handle(req: Http2ServerRequest, res: Http2ServerResponse): Promise<void> {
    const body = await readBody(req);
    const path = req.url.split('?')[0];
    if (req.method === 'POST' && path === '/token') return this.token(body, res);
    const send = SEND_PATH.exec(path);
    if (req.method === 'POST' && send) {
      return this.send(decodeURIComponent(send[1]), req, body, res);
    }
    if (req.method === 'GET' && path === '/__fake/stats') return json(res, 200, this.stats());
    if (req.method === 'POST' && path === '/__fake/fault') {
      const f = (body ? JSON.parse(body) : {}) as Partial<FakeFcmFault>;
      this.setFault(f.behaviour ? { behaviour: f.behaviour, fraction: f.fraction } : undefined);
      return json(res, 200, { fault: this.fault ?? null });
    }
    return json(
      res,
      404,
      JSON.parse(googleErrorBody(404, 'NOT_FOUND', `no route ${req.method} ${path}`)),
    );
  }

  /** Google's OAuth 2.0 token endpoint for the JWT-bearer grant (RFC 7523). */
  private token(body: string, res: Http2ServerResponse): void {
    this.tokenRequests++;
    const form = new URLSearchParams(body);
    const fail = (description: string) =>
      json(res, 400, { error: 'invalid_grant', error_description: description });
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      return json(res, 400, {
        error: 'unsupported_grant_type',
        error_description: 'Invalid grant_type',
      });
    }
    const parts = (form.get('assertion') ?? '').split('.');
    if (parts.length !== 3) return fail('Invalid JWT: malformed assertion');
    let header: { alg?: string };
    let claims: { iss?: string; aud?: string; scope?: string; iat?: number; exp?: number };
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as typeof header;
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as typeof claims;
    } catch {
      return fail('Invalid JWT: not JSON');
    }
    if (header.alg !== 'RS256') return fail('Invalid JWT: alg must be RS256');
    const account = claims.iss ? this.accounts.get(claims.iss) : undefined;
    if (!account) return fail('Invalid JWT Signature.');
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
    if (!verify('sha256', signed, account.publicKey, Buffer.from(parts[2], 'base64url'))) {
      return fail('Invalid JWT Signature.');
    }
    if (claims.aud !== GOOGLE_TOKEN_URL) {
      return fail(`Invalid JWT: aud must be ${GOOGLE_TOKEN_URL}`);
    }
    const now = Math.floor(Date.now() / 1000);
    if (
      !claims.iat ||
      !claims.exp ||
      claims.exp <= now ||
      claims.iat > now + 300 ||
      claims.exp - claims.iat > 3600
    ) {
      return fail(
        'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.',
      );
    }
    const scopes = (claims.scope ?? '').split(' ');
    if (!MESSAGING_SCOPES.some((s) => scopes.includes(s))) {
      return json(res, 400, { error: 'invalid_scope' });
    }
    const ttl = this.opts.accessTokenTtlSeconds ?? 3600;
    const accessToken = `ya29.fake-${randomBytes(24).toString('base64url')}`;
    this.accessTokens.set(accessToken, {
      projectId: account.projectId,
      expiresAt: Date.now() + ttl * 1000,
    });
    json(res, 200, { access_token: accessToken, expires_in: ttl, token_type: 'Bearer' });
  }

  private async send(
    projectId: string,
    req: Http2ServerRequest,
    raw: string,
    res: Http2ServerResponse,
  ): Promise<void> {
    this.sendCount++;
    const bearer = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    const grant = bearer ? this.accessTokens.get(bearer) : undefined;
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    const message = (body as { message?: Record<string, unknown> } | undefined)?.message ?? {};
    const token = typeof message.token === 'string' ? message.token : undefined;
    const answer = (
      status: number,
      payload: string,
      errorCode?: string,
      headers: Record<string, string> = {},
    ) => {
      this.statusCounts.set(status, (this.statusCounts.get(status) ?? 0) + 1);
      this.opts.observe?.({
        projectId,
        token,
        message,
        httpStatus: status,
        errorCode,
        at: Date.now(),
      });
      if (this.opts.record ?? true) {
        this.received.push({
          projectId,
          token,
          message,
          httpStatus: status,
          errorCode,
          at: Date.now(),
          httpVersion: req.httpVersion,
        });
      }
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
      res.end(payload);
    };
    if (!grant || grant.expiresAt <= Date.now()) {
      return answer(
        401,
        googleErrorBody(
          401,
          'UNAUTHENTICATED',
          'Request had invalid authentication credentials. Expected OAuth 2 access token.',
        ),
        'UNAUTHENTICATED',
      );
    }
    if (grant.projectId !== projectId) {
      return answer(
        403,
        googleErrorBody(
          403,
          'PERMISSION_DENIED',
          `Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/${projectId}'`,
        ),
        'PERMISSION_DENIED',
      );
    }
    if (body === undefined) {
      return answer(
        400,
        googleErrorBody(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.'),
        'INVALID_ARGUMENT',
      );
    }
    const problem = checkSendBody(body);
    if (problem) {
      return answer(
        400,
        googleErrorBody(400, 'INVALID_ARGUMENT', problem.message, 'INVALID_ARGUMENT', [
          { field: problem.field, description: problem.message },
        ]),
        'INVALID_ARGUMENT',
      );
    }
    let behaviour = this.behaviourFor(token);
    while (behaviour.kind === 'slow') {
      await new Promise((r) => setTimeout(r, behaviour.kind === 'slow' ? behaviour.delayMs : 0));
      behaviour = behaviour.then ?? { kind: 'ok' };
    }
    if (behaviour.kind === 'reset' || behaviour.kind === 'goaway') {
      this.statusCounts.set(0, (this.statusCounts.get(0) ?? 0) + 1);
      this.opts.observe?.({ projectId, token, message, httpStatus: 0, at: Date.now() });
      return cut(req, behaviour.kind);
    }
    if (behaviour.kind === 'ok') {
      return answer(
        200,
        JSON.stringify({ name: `projects/${projectId}/messages/${randomUUID()}` }),
      );
    }
    const shape = FCM_ERRORS[behaviour.code];
    const headers: Record<string, string> = {};
    if (behaviour.code === 'QUOTA_EXCEEDED') {
      headers['retry-after'] = String(
        behaviour.retryAfterSeconds ?? this.opts.defaultRetryAfterSeconds ?? 60,
      );
    } else if (behaviour.retryAfterSeconds !== undefined) {
      headers['retry-after'] = String(behaviour.retryAfterSeconds);
    }
    answer(
      shape.httpStatus,
      googleErrorBody(
        shape.httpStatus,
        shape.status,
        behaviour.message ?? shape.message,
        behaviour.code,
      ),
      behaviour.code,
      headers,
    );
  }

  private behaviourFor(token: string | undefined): FakeFcmBehaviour {
    const f = this.fault;
    if (f && (f.fraction === undefined || f.fraction >= 1 || Math.random() < f.fraction)) {
      return f.behaviour;
    }
    if (token === undefined) return { kind: 'ok' };
    const list = this.rules.get(token);
    if (!list) return behaviourFromToken(token, this.opts.defaultRetryAfterSeconds ?? 60);
    const n = this.seen.get(token) ?? 0;
    this.seen.set(token, n + 1);
    return list[Math.min(n, list.length - 1)];
  }
}

/** Ends a request without an answer: a reset, or the server going away. */
function cut(req: Http2ServerRequest, how: 'reset' | 'goaway'): void {
  const stream = req.stream as ServerHttp2Stream | undefined;
  if (req.httpVersion === '2.0' && stream) {
    if (how === 'reset') stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    else {
      const session = stream.session;
      session?.goaway(constants.NGHTTP2_NO_ERROR, Math.max(0, (stream.id ?? 2) - 2));
      setTimeout(() => session?.destroy(), 50).unref();
    }
    return;
  }
  // HTTP/1.1 (compatibility API): the socket itself.
  if (how === 'reset') req.socket.destroy();
  else req.socket.end();
}

function readBody(req: Http2ServerRequest): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      // Google refuses bodies this large too; the cap keeps a runaway client from eating memory.
      if (size > 1 << 20) req.destroy(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: Http2ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify(body));
}
