/**
 * CPU per record of the dispatcher's non-APNs work, in isolation (no I/O): decoding and validating
 * a request as the consumer does, building and encoding its outcome as the producer does, and
 * preparing the APNs request (headers and body).   npx tsx bench/apns-dispatcher/record-costs.ts
 */
import { ApnsRequestSchema, TOPICS, type ApnsRequest } from '@app/contracts';
import { buildOutcome } from '@app/dispatch';
import { encodeRecord } from '@app/kafka';
import { prepareSend } from '@apps/apns-dispatcher/apns/apns.sender';
import { apnsRequest } from '@app/testing';

const N = 50_000;
const now = Date.now();
const req: ApnsRequest = apnsRequest('demo', 'ab'.repeat(32), {
  jobId: 'm-1001:iphone-1',
  userId: 'bob',
  deviceId: 'iphone-1',
  messageId: 'm-1001',
  expiresAt: new Date(now + 3_600_000).toISOString(),
  payload: {
    aps: { alert: { title: 'Weekend hikers', body: 'Alice: hello' }, badge: 3, sound: 'default' },
    ext: '{"conv":"g-7"}',
  },
});
const raw = Buffer.from(JSON.stringify(req));

function time(name: string, fn: (i: number) => unknown): void {
  for (let i = 0; i < 2000; i++) fn(i); // warm-up
  const t0 = process.cpuUsage();
  for (let i = 0; i < N; i++) fn(i);
  const t = process.cpuUsage(t0);
  console.log(
    `${name.padEnd(74)} ${(((t.user + t.system) / N) | 0).toString().padStart(5)} µs/record`,
  );
}

time('consume: JSON.parse + zod ApnsRequestSchema', () =>
  ApnsRequestSchema.safeParse(JSON.parse(raw.toString('utf8'))),
);
time('produce (validated): buildOutcome + encodeRecord (zod + JSON + headers)', () =>
  encodeRecord(TOPICS.pushOutcome, buildOutcome(req, 'apns', 'delivered', { now })),
);
time('produce (prevalidated, as dispatchers do): buildOutcome + encodeRecord', () =>
  encodeRecord(TOPICS.pushOutcome, buildOutcome(req, 'apns', 'delivered', { now }), {
    prevalidated: true,
  }),
);
time('send: apns-id (SHA-256) + headers + body (prepareSend, once per job)', () =>
  prepareSend(req),
);
