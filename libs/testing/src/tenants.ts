import { AppConfigSchema, hashApiKey, type AppConfig, type ProviderEndpoint } from '@app/config';
import type { z } from 'zod';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import type { ApnsSigningKey } from './fake-apns/apns-credentials';
import type { FakeFcm } from './fake-fcm';
import { uniqueId } from './kafka.helpers';
import type { TlsMaterial } from './tls-material';

/**
 * A tenant of the apps file, as a test describes it: any section of the file (`policy`, `apns`,
 * `fcm`, `webhooks`; defaults as the file has them), and the API key in clear (the file holds its
 * hash; `<id>-key` when not given).
 */
export type TenantSpec = Omit<z.input<typeof AppConfigSchema>, 'apiKeys'> & { apiKey?: string };

/** The `apns` section of a tenant: a provider token (teamId, keyId, keyFile) or a certificate. */
export type TenantApns = NonNullable<TenantSpec['apns']>;

/** The tenant as the services read it from the apps file (checked, defaults filled in). */
export function tenantConfig(spec: TenantSpec): AppConfig {
  const { apiKey, ...rest } = spec;
  return AppConfigSchema.parse({ ...rest, apiKeys: [hashApiKey(apiKey ?? `${spec.id}-key`)] });
}

/**
 * Writes an apps file (`PUSH_APPS_FILE`) with these tenants and returns its path: `file` if given,
 * else a new file in `dir` (a new temporary folder when none is given).
 */
export function writeAppsFile(
  tenants: TenantSpec[],
  where: { dir?: string; file?: string } = {},
): string {
  const file =
    where.file ??
    join(where.dir ?? mkdtempSync(join(tmpdir(), 'push-apps-')), `apps-${uniqueId()}.yaml`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, stringify({ apps: tenants.map(tenantConfig) }));
  return file;
}

/**
 * A tenant of this test run alone (a unique id, an API key, default policy), in an apps file of
 * its own: services started with it leave other runs' users on the shared topics alone.
 */
export function testTenant(prefix = 'tenant'): { appId: string; apiKey: string; file: string } {
  const appId = uniqueId(prefix);
  const apiKey = uniqueId('key');
  return { appId, apiKey, file: writeAppsFile([{ id: appId, apiKey }]) };
}

/**
 * An `apns` section pointed at a fake APNs on 127.0.0.1, signing in with `auth`: a provider token
 * key (one the fake trusts, or not) or a client certificate.
 */
export function apnsAtFake(
  fake: { port: number },
  tls: TlsMaterial,
  auth: ApnsSigningKey | { certFile: string; keyFile: string },
  topics: string[],
): TenantApns {
  const credentials =
    'certFile' in auth
      ? { certFile: auth.certFile, keyFile: auth.keyFile }
      : { teamId: auth.teamId, keyId: auth.keyId, keyFile: auth.keyFile };
  return {
    ...credentials,
    topics,
    endpoint: { host: '127.0.0.1', port: fake.port, caFile: tls.caFile },
  };
}

/** An `fcm` section pointed at a fake FCM, with a new service account for `projectId` in `dir`. */
export function fcmAtFake(
  fake: FakeFcm,
  projectId: string,
  dir: string,
  endpoint: ProviderEndpoint = fake.endpoint(),
): NonNullable<TenantSpec['fcm']> {
  return { projectId, serviceAccountFile: fake.writeServiceAccount(projectId, dir), endpoint };
}
