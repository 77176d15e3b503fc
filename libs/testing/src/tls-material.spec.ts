import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAKE_SERVER_NAMES, ensureTlsMaterial } from './tls-material';

describe('ensureTlsMaterial (openssl CLI, no network)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tls-spec-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('issues a server certificate for every fake host, signed by its CA, and reuses it', () => {
    const first = ensureTlsMaterial(dir);
    const cert = new X509Certificate(first.cert);
    expect(cert.verify(new X509Certificate(first.ca).publicKey)).toBe(true);
    for (const name of FAKE_SERVER_NAMES) expect(cert.subjectAltName).toContain(name);
    expect(ensureTlsMaterial(dir).cert.equals(first.cert)).toBe(true);
  });

  it('makes the material afresh when the stored certificate no longer fits', () => {
    const before = ensureTlsMaterial(dir);
    writeFileSync(before.certFile, ensureTlsMaterial(join(dir, 'other')).ca); // a CA, no SANs
    const after = ensureTlsMaterial(dir);
    expect(after.cert.equals(before.cert)).toBe(false);
    expect(new X509Certificate(after.cert).subjectAltName).toContain('DNS:localhost');
  });
});
