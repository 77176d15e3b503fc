import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header that carries the signature: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const SIGNATURE_HEADER = 'x-push-signature';

/** The exact string signed: the timestamp, a dot, and the raw body bytes as sent. */
export const signedPayload = (t: number, body: string): string => `${t}.${body}`;

/** `t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` */
export function signWebhook(secret: Buffer, body: string, t: number): string {
  const mac = createHmac('sha256', secret).update(signedPayload(t, body), 'utf8').digest('hex');
  return `t=${t},v1=${mac}`;
}

export type SignatureCheck = { ok: true; t: number } | { ok: false; why: string };

/**
 * What a receiver does (the same logic as the snippet in docs/delivery-reports.md): parse the
 * header, recompute the HMAC over `"<t>.<raw body>"`, compare in constant time, and refuse a
 * timestamp further than `toleranceSeconds` from now (a replayed request).
 */
export function verifyWebhookSignature(
  secret: Buffer | string,
  header: string | undefined,
  rawBody: string,
  opts: { toleranceSeconds?: number; now?: number } = {},
): SignatureCheck {
  if (!header) return { ok: false, why: 'no signature header' };
  const parts = new Map<string, string[]>();
  for (const item of header.split(',')) {
    const eq = item.indexOf('=');
    if (eq > 0) {
      const k = item.slice(0, eq).trim();
      parts.set(k, [...(parts.get(k) ?? []), item.slice(eq + 1).trim()]);
    }
  }
  const t = Number(parts.get('t')?.[0]);
  if (!Number.isInteger(t)) return { ok: false, why: 'no timestamp' };
  const nowSeconds = Math.floor((opts.now ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - t) > (opts.toleranceSeconds ?? 300)) {
    return { ok: false, why: 'timestamp outside the tolerance' };
  }
  const expected = createHmac('sha256', secret).update(signedPayload(t, rawBody), 'utf8').digest();
  const match = (parts.get('v1') ?? []).some((hex) => {
    const got = Buffer.from(hex, 'hex');
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
  return match ? { ok: true, t } : { ok: false, why: 'signature mismatch' };
}
