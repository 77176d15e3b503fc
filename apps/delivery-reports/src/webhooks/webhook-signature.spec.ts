import { createHmac } from 'node:crypto';
import { signedPayload, signWebhook, verifyWebhookSignature } from './webhook-signature';

describe('webhook signature', () => {
  const secret = Buffer.from('whsec-0123456789abcdef');
  const body = '{"deliveryId":"d","appId":"a","outcomes":[]}';
  const t = 1_760_000_000;
  const now = t * 1000 + 5_000;

  it('is t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">', () => {
    const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    expect(signedPayload(t, body)).toBe(`${t}.${body}`);
    expect(signWebhook(secret, body, t)).toBe(`t=${t},v1=${expected}`);
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
  });

  it('verifies what it signed, and nothing else', () => {
    const header = signWebhook(secret, body, t);
    expect(verifyWebhookSignature(secret, header, body, { now })).toEqual({ ok: true, t });
    expect(verifyWebhookSignature(secret.toString(), header, body, { now }).ok).toBe(true);
    const fails = (h: string | undefined, b = body, s: Buffer | string = secret) =>
      verifyWebhookSignature(s, h, b, { now });
    expect(fails(header, body + ' ')).toEqual({ ok: false, why: 'signature mismatch' });
    expect(fails(header, body, 'another-secret-of-16+')).toEqual({
      ok: false,
      why: 'signature mismatch',
    });
    expect(fails(header.replace(`t=${t}`, `t=${t + 1}`))).toEqual({
      ok: false,
      why: 'signature mismatch',
    });
    expect(fails(undefined)).toEqual({ ok: false, why: 'no signature header' });
    expect(fails('v1=abc')).toEqual({ ok: false, why: 'no timestamp' });
    expect(fails(`t=${t},v1=zz`)).toEqual({ ok: false, why: 'signature mismatch' });
  });

  it('accepts any of several v1 values (a receiver rotating secrets) and refuses stale timestamps', () => {
    const good = signWebhook(secret, body, t).split(',')[1];
    expect(
      verifyWebhookSignature(secret, `t=${t},v1=${'0'.repeat(64)},${good}`, body, { now }).ok,
    ).toBe(true);
    const old = signWebhook(secret, body, t - 301);
    expect(verifyWebhookSignature(secret, old, body, { now: t * 1000 })).toEqual({
      ok: false,
      why: 'timestamp outside the tolerance',
    });
    expect(
      verifyWebhookSignature(secret, old, body, { now: t * 1000, toleranceSeconds: 600 }).ok,
    ).toBe(true);
  });
});
