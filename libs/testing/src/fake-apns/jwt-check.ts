import { createPublicKey, verify, type KeyObject } from 'node:crypto';

export interface TrustedKey {
  keyId: string;
  teamId: string;
  publicKeyPem: string;
}

export type JwtVerdict = { ok: true; keyId: string } | { ok: false; status: 403; reason: string };

const b64json = (s: string): Record<string, unknown> | undefined => {
  try {
    return JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
};

/**
 * Checks an APNs provider token as Apple does: ES256, `kid` of a known key, `iss` its team,
 * `iat` no older than an hour (Apple answers 403 ExpiredProviderToken then).
 */
export class JwtChecker {
  private readonly keys = new Map<string, { teamId: string; key: KeyObject }>();
  /** Verified tokens (signature and claims), so each is checked once, as APNs does per connection. */
  private readonly verified = new Map<string, { keyId: string; iat: number }>();

  constructor(
    trusted: TrustedKey[],
    private readonly maxAgeSeconds = 3600,
  ) {
    for (const t of trusted) {
      this.keys.set(t.keyId, { teamId: t.teamId, key: createPublicKey(t.publicKeyPem) });
    }
  }

  check(authorization: string | undefined, now = Date.now()): JwtVerdict {
    const deny = (reason: string): JwtVerdict => ({ ok: false, status: 403, reason });
    if (!authorization) return deny('MissingProviderToken');
    const seen = this.verified.get(authorization);
    if (seen) {
      if (now / 1000 - seen.iat > this.maxAgeSeconds) return deny('ExpiredProviderToken');
      return { ok: true, keyId: seen.keyId };
    }
    const m = /^bearer (.+)$/i.exec(authorization);
    const parts = m?.[1].split('.');
    if (!parts || parts.length !== 3) return deny('InvalidProviderToken');
    const header = b64json(parts[0]);
    const claims = b64json(parts[1]);
    if (!header || !claims || header.alg !== 'ES256') return deny('InvalidProviderToken');
    const known = typeof header.kid === 'string' ? this.keys.get(header.kid) : undefined;
    if (!known || claims.iss !== known.teamId) return deny('InvalidProviderToken');
    const signed = verify(
      'sha256',
      Buffer.from(`${parts[0]}.${parts[1]}`),
      { key: known.key, dsaEncoding: 'ieee-p1363' },
      Buffer.from(parts[2], 'base64url'),
    );
    if (!signed) return deny('InvalidProviderToken');
    if (typeof claims.iat !== 'number') return deny('InvalidProviderToken');
    if (now / 1000 - claims.iat > this.maxAgeSeconds) return deny('ExpiredProviderToken');
    if (this.verified.size > 1000) this.verified.clear();
    this.verified.set(authorization, { keyId: header.kid as string, iat: claims.iat });
    return { ok: true, keyId: header.kid as string };
  }
}
