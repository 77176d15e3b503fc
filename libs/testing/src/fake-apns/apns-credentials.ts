import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signClientCertificate, type TlsMaterial } from '../tls-material';

export interface ApnsSigningKey {
  keyId: string;
  teamId: string;
  /** Path of the `.p8` (PKCS#8 PEM, P-256), as Apple hands it out. */
  keyFile: string;
  publicKeyPem: string;
}

/** A locally generated APNs auth key (`AuthKey_<keyId>.p8`) and its public half for the fake. */
export function generateApnsKey(
  dir: string,
  keyId = 'FAKEKEY001',
  teamId = 'FAKETEAM01',
): ApnsSigningKey {
  mkdirSync(dir, { recursive: true });
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyFile = join(dir, `AuthKey_${keyId}.p8`);
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return {
    keyId,
    teamId,
    keyFile,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/**
 * A client certificate for APNs certificate auth, signed by the fake's CA: RSA (node-apn parses
 * certificates with node-forge) with Apple's push environment extensions (development and
 * production), which node-apn checks against the configured environment.
 */
export function generateApnsClientCertificate(
  tls: TlsMaterial,
  dir: string,
): { certFile: string; keyFile: string } {
  mkdirSync(dir, { recursive: true });
  const f = (n: string) => join(dir, n);
  const ossl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ossl(['genrsa', '-out', f('client.key'), '2048']);
  ossl([
    'req',
    '-new',
    '-key',
    f('client.key'),
    '-subj',
    '/CN=Apple Push Services: com.example.chat',
    '-out',
    f('client.csr'),
  ]);
  signClientCertificate(
    tls,
    { csr: f('client.csr'), ext: f('client.ext'), out: f('client.crt') },
    'extendedKeyUsage=clientAuth\n1.2.840.113635.100.6.3.1=ASN1:NULL\n1.2.840.113635.100.6.3.2=ASN1:NULL\n',
  );
  return { certFile: f('client.crt'), keyFile: f('client.key') };
}
