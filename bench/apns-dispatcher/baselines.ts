import { mapBounded } from '@app/dispatch';
import apn from '@parse/node-apn';
import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import tls from 'node:tls';
import type { FakeProcess } from './bench-procs';

export interface Work {
  tokens: string[];
  payloads: string[];
  topic: string;
}

const b64u = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

export function providerJwt(f: FakeProcess): string {
  const head = `${b64u({ alg: 'ES256', kid: f.keyId })}.${b64u({ iss: f.teamId, iat: Math.floor(Date.now() / 1000) })}`;
  const sig = sign('sha256', Buffer.from(head), {
    key: createPrivateKey(readFileSync(f.keyFile)),
    dsaEncoding: 'ieee-p1363',
  });
  return `${head}.${sig.toString('base64url')}`;
}

/** `sessions` raw node:http2 sessions to the fake, and the provider token they send. */
export async function openSessions(
  f: FakeProcess,
  sessions: number,
): Promise<{ conns: http2.ClientHttp2Session[]; auth: string }> {
  const ca = readFileSync(f.caFile);
  const auth = `bearer ${providerJwt(f)}`;
  const conns = await Promise.all(
    Array.from(
      { length: sessions },
      () =>
        new Promise<http2.ClientHttp2Session>((res, rej) => {
          const s = http2.connect('https://api.push.apple.com', {
            createConnection: () =>
              tls.connect({
                host: '127.0.0.1',
                port: f.port,
                ca,
                servername: 'api.push.apple.com',
                ALPNProtocols: ['h2'],
              }),
          });
          s.once('connect', () => res(s));
          s.once('error', rej);
        }),
    ),
  );
  return { conns, auth };
}

/** One prebuilt POST on a session; resolves with the HTTP status (0: the stream failed). */
export function postRaw(
  session: http2.ClientHttp2Session,
  auth: string,
  topic: string,
  token: string,
  payload: string,
): Promise<number> {
  return new Promise<number>((res) => {
    let status = 0;
    const st = session.request({
      ':method': 'POST',
      ':path': `/3/device/${token}`,
      authorization: auth,
      'apns-topic': topic,
      'apns-push-type': 'alert',
      'apns-id': randomUUID(),
    });
    st.on('response', (h) => (status = Number(h[':status'])));
    st.on('error', () => res(0));
    st.on('close', () => res(status));
    st.resume();
    st.end(payload);
  });
}

/** The loopback limit: prebuilt requests on raw node:http2 sessions, `window` streams per session. */
export async function bareHttp2(
  f: FakeProcess,
  w: Work,
  sessions: number,
  window: number,
): Promise<number> {
  const { conns, auth } = await openSessions(f, sessions);
  let ok = 0;
  await mapBounded(w.tokens, sessions * window, async (token, i) => {
    if ((await postRaw(conns[i % sessions], auth, w.topic, token, w.payloads[i])) === 200) ok++;
  });
  conns.forEach((c) => c.close());
  return ok;
}

const providerOptions = (f: FakeProcess) => ({
  token: { key: f.keyFile, keyId: f.keyId, teamId: f.teamId },
  address: 'api.push.apple.com',
  production: true,
  createConnection: () =>
    tls.connect({
      host: '127.0.0.1',
      port: f.port,
      ca: readFileSync(f.caFile),
      servername: 'api.push.apple.com',
      ALPNProtocols: ['h2'],
    }),
});

/**
 * Bare node-apn as its README shows: one Provider, a distinct Notification per device, sent with
 * `Provider.send`, `chunk` at a time (node-apn puts every call on one session at once; past the
 * server's stream limit the server refuses streams and, after 100 refusals, Node's HTTP/2 server
 * closes the session with ENHANCE_YOUR_CALM: `chunk = all` shows that).
 */
export async function bareNodeApn(f: FakeProcess, w: Work, chunk: number): Promise<number> {
  const provider = new apn.Provider(providerOptions(f));
  let sent = 0;
  for (let i = 0; i < w.tokens.length; i += chunk) {
    const results = await Promise.all(
      w.tokens.slice(i, i + chunk).map((t, j) => {
        const n = new apn.Notification();
        n.rawPayload = JSON.parse(w.payloads[i + j]) as object;
        n.topic = w.topic;
        n.pushType = 'alert';
        return provider.send(n, t);
      }),
    );
    sent += results.reduce((a, r) => a + r.sent.length, 0);
  }
  await provider.shutdown();
  return sent;
}

/** @parse/push-adapter's APNS (Parse Server): one call, one notification to every device. */
export async function parseAdapter(f: FakeProcess, w: Work, chunk: number): Promise<number> {
  const moduleName = '@parse/push-adapter'; // ESM without type declarations
  const { APNS } = (await import(moduleName)) as {
    APNS: new (args: object) => {
      send(data: object, devices: object[]): Promise<Array<{ transmitted: boolean }>>;
      providers: apn.Provider[];
    };
  };
  const adapter = new APNS({ ...providerOptions(f), topic: w.topic });
  const devices = w.tokens.map((deviceToken) => ({
    deviceToken,
    appIdentifier: w.topic,
    deviceType: 'ios',
  }));
  let sent = 0;
  // The same stream-limit constraint as bare node-apn: one call per `chunk` devices.
  for (let i = 0; i < devices.length; i += chunk) {
    const res = await adapter.send(
      { data: JSON.parse(w.payloads[i]) as object, push_type: 'alert' },
      devices.slice(i, i + chunk),
    );
    sent += res.filter((r) => r.transmitted).length;
  }
  await Promise.all(adapter.providers.map((p) => p.shutdown()));
  return sent;
}
