import { request, type Agent } from 'node:https';

/**
 * A `fetch` for google-auth-library's transporter that goes through a given agent. gaxios would
 * otherwise load `node-fetch` with a dynamic ESM import, which fails under CommonJS test runners
 * and bundles, and the global `fetch` ignores agents. The token request is all that uses it: a
 * small form POST with a small JSON answer.
 */
export function fetchThrough(agent: Agent, timeoutMs: number): typeof fetch {
  const impl = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> =>
    new Promise((resolve, reject) => {
      const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
      const headers = new Headers(init.headers);
      let body: string | Buffer | undefined;
      if (init.body instanceof URLSearchParams) {
        body = init.body.toString();
        if (!headers.has('content-type')) {
          headers.set('content-type', 'application/x-www-form-urlencoded;charset=UTF-8');
        }
      } else if (typeof init.body === 'string') body = init.body;
      else if (init.body instanceof Uint8Array) body = Buffer.from(init.body);
      else if (init.body != null) {
        return reject(new Error('fetchThrough: unsupported request body type'));
      }
      const req = request(
        {
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port || 443,
          path: `${url.pathname}${url.search}`,
          method: init.method ?? 'GET',
          headers: Object.fromEntries(headers.entries()),
          agent,
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const status = res.statusCode ?? 502;
            const out = new Headers();
            for (const [k, v] of Object.entries(res.headers)) {
              if (v !== undefined) out.set(k, Array.isArray(v) ? v.join(', ') : v);
            }
            const payload = status === 204 || status === 304 ? null : Buffer.concat(chunks);
            resolve(new Response(payload, { status, statusText: res.statusMessage, headers: out }));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`request to ${url.host} timed out`)));
      req.on('error', reject);
      init.signal?.addEventListener('abort', () => req.destroy(new Error('aborted')));
      req.end(body);
    });
  return impl;
}
