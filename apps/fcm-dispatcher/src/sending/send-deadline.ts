import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import type { ClientHttp2Stream, Http2Session, OutgoingHttpHeaders } from 'node:http2';

/** The FCM send calls (`POST /v1/projects/{id}/messages:send`); the OAuth token request is not one. */
const SEND_PATH = /\/messages:send(\?|$)/;

/** A send that did not answer in time: the same code Node and firebase-admin use for timeouts. */
export class SendTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(message: string) {
    super(message);
    this.name = 'SendTimeoutError';
  }
}

/** The requests one call has opened, and whether its deadline has passed. */
class CallRequests {
  private readonly open = new Set<ClientRequest | ClientHttp2Stream>();
  private reason: Error | undefined;

  add(r: ClientRequest | ClientHttp2Stream): void {
    // Opened after the deadline (a retry inside the library): it never goes out.
    if (this.reason) return abortAll([r], this.reason);
    // Node ≥ 24 publishes a request on both `created` and `start`: one listener per request.
    if (this.open.has(r)) return;
    this.open.add(r);
    r.once('close', () => this.open.delete(r));
  }

  abort(reason: Error): number {
    this.reason = reason;
    const n = this.open.size;
    abortAll([...this.open], reason);
    this.open.clear();
    return n;
  }
}

/**
 * Destroys the requests (each fails with `reason`), then the HTTP/2 sessions they ran on:
 * firebase-admin opens a session per sendEach, which goes with the call's streams (one still
 * connecting would otherwise hold its socket until the handshake ends).
 */
function abortAll(rs: Array<ClientRequest | ClientHttp2Stream>, reason: Error): void {
  const sessions = new Set<Http2Session>();
  for (const r of rs) {
    const session = (r as Partial<ClientHttp2Stream>).session;
    if (session) sessions.add(session);
    r.destroy(reason);
  }
  for (const s of sessions) if (!s.destroyed) s.destroy();
}

const calls = new AsyncLocalStorage<CallRequests>();
let listening = false;

/**
 * Node publishes every client request (`http.client.request.created`, HTTP/1.1) and every HTTP/2
 * client stream (`http2.client.stream.created`) on `diagnostics_channel`, synchronously in the
 * code that opens it: so inside `withSendDeadline`, the request firebase-admin opens belongs to
 * the call whose async context it runs in, without any hook into the library.
 */
function listen(): void {
  if (listening) return;
  listening = true;
  const onRequest = (m: unknown) => {
    const { request } = m as { request: ClientRequest };
    if (!request.destroyed && SEND_PATH.test(request.path)) calls.getStore()?.add(request);
  };
  // `created` (Node ≥ 24) fires in the constructor, before a socket is even asked for; `start`
  // (older Nodes) when the request goes out. A request seen by both is held once.
  subscribe('http.client.request.created', onRequest);
  subscribe('http.client.request.start', onRequest);
  subscribe('http2.client.stream.created', (m) => {
    const { stream, headers } = m as { stream: ClientHttp2Stream; headers?: OutgoingHttpHeaders };
    const path = headers?.[':path'] ?? stream.sentHeaders?.[':path'];
    if (typeof path === 'string' && SEND_PATH.test(path)) calls.getStore()?.add(stream);
  });
}

export interface SendDeadlineOptions {
  /** After the deadline, how long the call may take to settle once its requests are aborted. */
  settleMs?: number;
  /** Called when the deadline passes, with how many requests were still open (metrics, logs). */
  onAbort?: (openRequests: number) => void;
}

/**
 * Runs `fn` (a firebase-admin send) with a deadline that **aborts** the call's HTTP requests
 * rather than racing them: at `timeoutMs` every FCM send request the call opened and that is
 * still open is destroyed (its socket or HTTP/2 stream closed, the server sees the reset), as is
 * any it opens later. The call then settles at once, answered requests keeping their answer and
 * aborted ones failing with a `SendTimeoutError` (firebase-admin reports it per message as
 * `app/network-timeout`). Should the call not settle within `settleMs` after that (stuck before
 * any send request, e.g. on its access token), the returned promise rejects with the timeout
 * error; that request has its own timeout.
 */
export async function withSendDeadline<T>(
  fn: () => Promise<T>,
  timeoutMs: number,
  what: string,
  opts: SendDeadlineOptions = {},
): Promise<T> {
  listen();
  const requests = new CallRequests();
  const work = calls.run(requests, fn);
  let deadline: NodeJS.Timeout | undefined;
  let settle: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    deadline = setTimeout(() => {
      const err = new SendTimeoutError(`${what} did not answer within ${timeoutMs} ms`);
      const open = requests.abort(err);
      opts.onAbort?.(open);
      settle = setTimeout(() => reject(err), opts.settleMs ?? 1000);
    }, timeoutMs);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(deadline);
    clearTimeout(settle);
  }
}
