import { execFileSync } from 'node:child_process';
import { X509Certificate, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Names the fakes' server certificate is valid for: loopback, and the providers' own hosts for
 * proxy-style endpoint overrides (a client that connects to the fake but checks Apple's or
 * Google's name).
 */
export const FAKE_SERVER_NAMES = [
  'localhost',
  '127.0.0.1',
  'api.push.apple.com',
  'api.sandbox.push.apple.com',
  'fcm.googleapis.com',
  'oauth2.googleapis.com',
];

/** A throw-away CA and a server certificate it signed, as files and as bytes. */
export interface TlsMaterial {
  dir: string;
  /** What a client trusts (`endpoint.caFile` in the apps file). */
  caFile: string;
  certFile: string;
  keyFile: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

const DAY_MS = 86_400_000;

/** Whether the certificate in `file` names every fake host and stays valid for another day. */
function usable(file: string): boolean {
  if (!existsSync(file)) return false;
  const cert = new X509Certificate(readFileSync(file));
  const sans = cert.subjectAltName ?? '';
  return (
    Date.parse(cert.validTo) - Date.now() > DAY_MS &&
    FAKE_SERVER_NAMES.every((n) =>
      sans.includes(/^[\d.]+$/.test(n) ? `IP Address:${n}` : `DNS:${n}`),
    )
  );
}

/**
 * The fakes' TLS material (fake APNs, fake FCM): a CA and a server certificate for
 * `FAKE_SERVER_NAMES`, made with the openssl CLI (node:crypto cannot issue X.509 certificates) at
 * test time, so no key material is ever committed. Kept in `dir` and reused while it is valid for
 * another day; made afresh otherwise. Without `dir`, a new temporary directory.
 */
export function ensureTlsMaterial(dir = mkdtempSync(join(tmpdir(), 'fake-tls-'))): TlsMaterial {
  mkdirSync(dir, { recursive: true });
  const f = (n: string) => join(dir, n);
  if (!usable(f('server.crt'))) {
    const ossl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
    ossl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('ca.key')]);
    ossl([
      'req',
      '-x509',
      '-new',
      '-key',
      f('ca.key'),
      '-sha256',
      '-days',
      '7',
      '-subj',
      '/CN=offline-push fakes test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      f('ca.pem'),
    ]);
    ossl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('server.key')]);
    ossl([
      'req',
      '-new',
      '-key',
      f('server.key'),
      '-subj',
      '/CN=localhost',
      '-out',
      f('server.csr'),
    ]);
    const san = FAKE_SERVER_NAMES.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(
      ',',
    );
    writeFileSync(
      f('server.ext'),
      `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
    );
    ossl([
      'x509',
      '-req',
      '-in',
      f('server.csr'),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-set_serial',
      `0x${randomBytes(8).toString('hex')}`,
      '-days',
      '7',
      '-sha256',
      '-extfile',
      f('server.ext'),
      '-out',
      f('server.crt'),
    ]);
  }
  return {
    dir,
    caFile: f('ca.pem'),
    certFile: f('server.crt'),
    keyFile: f('server.key'),
    ca: readFileSync(f('ca.pem')),
    cert: readFileSync(f('server.crt')),
    key: readFileSync(f('server.key')),
  };
}

/**
 * Signs a client certificate request with the material's CA (2 days, SHA-256, a random serial,
 * `extensions` as an openssl extension file): what the fakes and test brokers trust.
 */
export function signClientCertificate(
  tls: TlsMaterial,
  files: { csr: string; ext: string; out: string },
  extensions: string,
): void {
  writeFileSync(files.ext, extensions);
  execFileSync(
    'openssl',
    [
      'x509',
      '-req',
      '-in',
      files.csr,
      '-CA',
      tls.caFile,
      '-CAkey',
      join(tls.dir, 'ca.key'),
      '-set_serial',
      `0x${randomBytes(8).toString('hex')}`,
      '-days',
      '2',
      '-sha256',
      '-extfile',
      files.ext,
      '-out',
      files.out,
    ],
    { stdio: 'pipe' },
  );
}
