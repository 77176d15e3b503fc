import { parseRetryAfter } from '@app/dispatch';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { ClientHttp2Stream, IncomingHttpHeaders as Http2Headers } from 'node:http2';

const SEND_PATH = /^\/v1\/projects\/([^/]+)\/messages:send/;
const HTTP_CHANNEL = 'http.client.response.finish';
const HTTP2_CHANNEL = 'http2.client.stream.finish';

/**
 * firebase-admin turns an FCM error into a code and a message and drops the response headers, so
 * the `Retry-After` of a 429 or 503 never reaches the caller. Node publishes every client response
 * on `diagnostics_channel` (HTTP/1.1, and HTTP/2 streams); this reads the header there and keeps,
 * per FCM project, until when Google asked to be left alone. Throttling is per project, so a
 * project-wide window is what the header means anyway.
 */
export class RetryAfterTracker {
  private readonly until = new Map<string, number>();
  private readonly onHttp = (m: unknown) => {
    const { request, response } = m as { request: ClientRequest; response: IncomingMessage };
    this.observe(request.path, response.statusCode ?? 0, response.headers);
  };
  private readonly onHttp2 = (m: unknown) => {
    const { stream, headers } = m as { stream: ClientHttp2Stream; headers: Http2Headers };
    const path = stream.sentHeaders?.[':path'];
    this.observe(
      typeof path === 'string' ? path : '',
      Number(headers?.[':status'] ?? 0),
      headers ?? {},
    );
  };

  start(): this {
    subscribe(HTTP_CHANNEL, this.onHttp);
    subscribe(HTTP2_CHANNEL, this.onHttp2);
    return this;
  }

  stop(): void {
    unsubscribe(HTTP_CHANNEL, this.onHttp);
    unsubscribe(HTTP2_CHANNEL, this.onHttp2);
  }

  /** Records a response to a send (exposed for tests of the window logic). */
  observe(
    path: string,
    status: number,
    headers: IncomingHttpHeaders | Http2Headers,
    now = Date.now(),
  ): void {
    if (status !== 429 && status < 500) return;
    const project = SEND_PATH.exec(path)?.[1];
    if (!project) return;
    const ms = parseRetryAfter(headers['retry-after'], now);
    if (ms === undefined) return;
    const key = decodeURIComponent(project);
    this.until.set(key, Math.max(this.until.get(key) ?? 0, now + ms));
  }

  /** How long the project asked to wait from now, if it still does. */
  retryAfterMs(projectId: string, now = Date.now()): number | undefined {
    const t = this.until.get(projectId);
    if (t === undefined) return undefined;
    if (t <= now) {
      this.until.delete(projectId);
      return undefined;
    }
    return t - now;
  }
}
