import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { SendTimeoutError, withSendDeadline } from '@apps/fcm-dispatcher/sending/send-deadline';

const SEND = '/v1/projects/p/messages:send';

/**
 * The send deadline against plain local servers, HTTP/2 (firebase-admin's production transport,
 * which cannot be pointed at a fake) and HTTP/1.1: at the deadline the call's send requests are
 * aborted, and the server sees them go; other calls' requests, and the token request, are not
 * touched.
 */
describe('withSendDeadline', () => {
  /** An HTTP/1.1 server answering `/fast…` at once, `/slow…` after 600 ms, and nothing else. */
  let h1: http.Server;
  let h1Port: number;
  const h1Events: string[] = [];

  beforeAll(async () => {
    h1 = http.createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = req.url ?? '';
      h1Events.push(`open ${url}`);
      res.on('close', () => h1Events.push(`${res.writableEnded ? 'answered' : 'aborted'} ${url}`));
      if (url.startsWith('/fast')) res.end('fast');
      else if (url.startsWith('/slow')) setTimeout(() => res.end('slow'), 600);
      // anything else: never answered
    });
    h1.listen(0, '127.0.0.1');
    await once(h1, 'listening');
    h1Port = (h1.address() as AddressInfo).port;
  });

  afterAll(() => {
    h1.closeAllConnections();
    h1.close();
  });

  const get = (path: string) =>
    new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: h1Port, method: 'POST', path }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end('{}');
    });

  it('HTTP/2: resets the open stream at the deadline (the server sees it) and closes the session', async () => {
    const server = http2.createServer();
    const seen: Array<{ path: string; closedAfterMs?: number; rstCode?: number }> = [];
    const started = Date.now();
    server.on('stream', (stream, headers) => {
      const s: (typeof seen)[number] = { path: String(headers[':path']) };
      seen.push(s);
      stream.on('close', () => {
        s.closedAfterMs = Date.now() - started;
        s.rstCode = stream.rstCode;
      });
      // never answered
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    let session!: http2.ClientHttp2Session;
    try {
      const call = withSendDeadline(
        () =>
          new Promise((resolve, reject) => {
            // As firebase-admin does: a session per call, a stream per message.
            session = http2.connect(`http://127.0.0.1:${port}`);
            session.on('error', () => undefined);
            const req = session.request({ ':method': 'POST', ':path': SEND });
            req.on('response', resolve);
            req.on('error', reject);
            req.end('{}');
          }),
        300,
        'h2 send',
      );
      const err = await call.catch((e: Error) => e);
      expect(err).toBeInstanceOf(SendTimeoutError);
      expect((err as SendTimeoutError).code).toBe('ETIMEDOUT');
      expect(Date.now() - started).toBeLessThan(900);
      await new Promise((r) => setTimeout(r, 100));
      expect(seen).toEqual([{ path: SEND, closedAfterMs: expect.any(Number), rstCode: 8 }]);
      expect(seen[0].closedAfterMs).toBeGreaterThanOrEqual(300);
      expect(seen[0].closedAfterMs).toBeLessThan(900);
      expect(session.destroyed).toBe(true);
    } finally {
      server.close();
    }
  });

  it('HTTP/1.1: answered requests keep their answer, open ones fail; other calls and the token request are untouched', async () => {
    h1Events.length = 0;
    const started = Date.now();
    const expiring = withSendDeadline(
      () =>
        Promise.allSettled([
          get(`/fast${SEND}`),
          get(`/never${SEND}`),
          // Not a send (the OAuth token request is shared by calls): left alone.
          get('/slow/token'),
        ]),
      300,
      'h1 send',
    );
    // Another call in flight at the same time, with a longer deadline: not aborted.
    const other = withSendDeadline(() => get(`/slow${SEND}`), 5000, 'other send');
    const [fast, never, token] = await expiring;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(fast).toEqual({ status: 'fulfilled', value: 'fast' });
    expect(never).toMatchObject({
      status: 'rejected',
      reason: expect.objectContaining({ message: 'h1 send did not answer within 300 ms' }),
    });
    expect(token).toEqual({ status: 'fulfilled', value: 'slow' });
    expect(await other).toBe('slow');
    expect(h1Events).toEqual(
      expect.arrayContaining([
        `answered /fast${SEND}`,
        `aborted /never${SEND}`,
        'answered /slow/token',
        `answered /slow${SEND}`,
      ]),
    );
  });

  it('destroys a send opened after the deadline at once, and reports how many it aborted', async () => {
    h1Events.length = 0;
    const aborted: number[] = [];
    const late = withSendDeadline(
      async () => {
        const first = await get(`/never-a${SEND}`).catch((e: Error) => e);
        // What a library retry would do: a new request after the first failed.
        return [first, await get(`/never-b${SEND}`).catch((e: Error) => e)];
      },
      200,
      'late send',
      { onAbort: (n) => aborted.push(n) },
    );
    const [a, b] = await late;
    expect(a).toBeInstanceOf(SendTimeoutError);
    expect(b).toBeInstanceOf(SendTimeoutError);
    expect(aborted).toEqual([1]);
    await new Promise((r) => setTimeout(r, 100));
    expect(h1Events).not.toContain(`open /never-b${SEND}`);
  });

  it('rejects with the timeout if the call does not settle once its sends are aborted', async () => {
    const started = Date.now();
    const stuck = withSendDeadline(() => new Promise<never>(() => undefined), 100, 'stuck send', {
      settleMs: 100,
    });
    await expect(stuck).rejects.toThrow('stuck send did not answer within 100 ms');
    expect(Date.now() - started).toBeLessThan(600);
  });
});
