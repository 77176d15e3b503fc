/**
 * The demo's outcome webhook receiver: a plain HTTP server that checks every delivery's signature
 * the way an app team would (docs/delivery-reports.md, "Verifying the signature"), answers 200,
 * and shows what it got on GET /received. Started by scripts/start-all.sh beside the fakes.
 *
 *   npx tsx scripts/demo/webhook-receiver.ts <run dir>     (reads <run dir>/demo-webhook.secret)
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join, resolve } from 'node:path';

const PORT = 8450;

interface Delivery {
  deliveryId: string | undefined;
  attempt: string | undefined;
  signature: string | undefined;
  verified: boolean;
  why: string | null;
  body: unknown;
}

/** header: the x-push-signature value; rawBody: the body as received. */
function verify(secret: string, header: string | undefined, rawBody: string): string | null {
  if (!header) return 'no signature';
  const fields = Object.fromEntries(header.split(',').map((kv) => kv.trim().split('=', 2)));
  const t = Number(fields.t);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > 300) return 'stale timestamp';
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  const got = Buffer.from(String(fields.v1 ?? ''), 'hex');
  return got.length === expected.length && timingSafeEqual(got, expected) ? null : 'mismatch';
}

function main(): void {
  const run = resolve(process.argv[2] ?? '.local/run');
  const secret = readFileSync(join(run, 'demo-webhook.secret'), 'utf8').trim();
  const received: Delivery[] = [];
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/received') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(received));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const signature = req.headers['x-push-signature'] as string | undefined;
      const why = verify(secret, signature, raw);
      received.push({
        deliveryId: req.headers['x-push-delivery-id'] as string | undefined,
        attempt: req.headers['x-push-attempt'] as string | undefined,
        signature,
        verified: why === null,
        why,
        body: JSON.parse(raw) as unknown,
      });
      if (received.length > 500) received.shift();
      res.statusCode = why === null ? 200 : 401;
      res.end();
    });
  });
  server.listen(PORT, '127.0.0.1', () => {
    console.log(`webhook receiver on http://127.0.0.1:${PORT}/hooks/push (GET /received)`);
  });
}

main();
