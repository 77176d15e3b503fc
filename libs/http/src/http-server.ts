import { envInt } from '@app/config';
import type { Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { z } from 'zod';

/** HTTP settings every service reads (each has a default). */
export const HttpEnvSchema = z.object({
  /**
   * How long a client may take to send a whole request (headers and body); then 408. Node's
   * default is 5 minutes, long enough for a few slow clients to hold sockets open at will.
   */
  HTTP_REQUEST_TIMEOUT_MS: envInt(1000, 600000).default(30000),
  /** How long a client may take to send the request line and headers; then 408. */
  HTTP_HEADERS_TIMEOUT_MS: envInt(1000, 600000).default(10000),
  /**
   * The most bytes of request line and headers (Node's default is 16 KiB). Beyond it the answer is
   * a 431 problem. 32 KiB lets a path carry its longest ids (128 characters each, percent-encoded:
   * up to 1,152 bytes) with room to spare, and lets an over-long id reach validation (400 naming it).
   */
  HTTP_MAX_HEADER_BYTES: envInt(8192, 262144).default(32768),
  /** The deepest nesting of arrays and objects a JSON body may have (400 `JSON_TOO_DEEP` beyond). */
  HTTP_MAX_JSON_DEPTH: envInt(2, 1000).default(32),
});
export type HttpSettings = z.infer<typeof HttpEnvSchema>;

/** The HTTP settings of a config; those its schema did not read take their defaults. */
export const httpSettings = (env: object): HttpSettings => {
  const defaults = HttpEnvSchema.parse({});
  const given = env as Partial<HttpSettings>;
  return {
    HTTP_REQUEST_TIMEOUT_MS: given.HTTP_REQUEST_TIMEOUT_MS ?? defaults.HTTP_REQUEST_TIMEOUT_MS,
    HTTP_HEADERS_TIMEOUT_MS: given.HTTP_HEADERS_TIMEOUT_MS ?? defaults.HTTP_HEADERS_TIMEOUT_MS,
    HTTP_MAX_HEADER_BYTES: given.HTTP_MAX_HEADER_BYTES ?? defaults.HTTP_MAX_HEADER_BYTES,
    HTTP_MAX_JSON_DEPTH: given.HTTP_MAX_JSON_DEPTH ?? defaults.HTTP_MAX_JSON_DEPTH,
  };
};

const CLIENT_ERRORS: Record<string, { status: number; title: string; code: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    title: 'Request Header Fields Too Large',
    code: 'HEADERS_TOO_LARGE',
  },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: {
    status: 413,
    title: 'Content Too Large',
    code: 'BODY_TOO_LARGE',
  },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, title: 'Request Timeout', code: 'REQUEST_TIMEOUT' },
};

/** The raw HTTP/1.1 answer to a request Node's parser refused before any route saw it. */
export function clientErrorResponse(errorCode: string | undefined, settings: HttpSettings): string {
  const known = errorCode ? CLIENT_ERRORS[errorCode] : undefined;
  const { status, title, code } = known ?? {
    status: 400,
    title: 'Bad Request',
    code: 'MALFORMED_REQUEST',
  };
  const detail =
    status === 431
      ? `the request line and headers exceed ${settings.HTTP_MAX_HEADER_BYTES} bytes`
      : status === 408
        ? `the request was not received within ${settings.HTTP_REQUEST_TIMEOUT_MS} ms`
        : status === 413
          ? 'chunk extensions too large'
          : 'malformed HTTP request';
  const body = JSON.stringify({ type: 'about:blank', title, status, detail, code });
  return (
    `HTTP/1.1 ${status} ${title}\r\n` +
    'Content-Type: application/problem+json\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}

/**
 * Applies the settings to the Node server (created, not yet listening) and answers what Node's
 * HTTP parser refuses (headers too large, a request too slow, malformed HTTP) as problem+json
 * like every other error, instead of Node's bare status line.
 */
export function tuneHttpServer(server: Server, settings: HttpSettings): void {
  // Both are read by Node when a connection arrives (resp. when the server starts listening), so
  // they take effect on a server Nest created; @types/node only lists them as createServer options.
  const tunable = server as Server & { maxHeaderSize: number; connectionsCheckingInterval: number };
  tunable.maxHeaderSize = settings.HTTP_MAX_HEADER_BYTES;
  server.requestTimeout = settings.HTTP_REQUEST_TIMEOUT_MS;
  server.headersTimeout = Math.min(
    settings.HTTP_HEADERS_TIMEOUT_MS,
    settings.HTTP_REQUEST_TIMEOUT_MS,
  );
  // How often Node looks for requests past their timeouts (default 30 s): without this a 10 s
  // timeout could fire after 40 s.
  tunable.connectionsCheckingInterval = Math.min(
    1000,
    Math.max(100, Math.floor(server.headersTimeout / 4)),
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    // As Node's own handler: never write into a response that has started, nor to a dead socket.
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    socket.end(clientErrorResponse(err.code, settings));
  });
}
