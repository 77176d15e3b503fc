import { Logger } from '@nestjs/common';
import type { AppConfig, AppsRegistry, ProviderEndpoint } from '@app/config';
import type { ApnsEnvironment } from '@app/contracts';
import type apn from '@parse/node-apn';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { ApnsEnv } from '../apns-env.schema';
import { ApnsPool } from './apns-pool';

export const APPLE_HOSTS: Record<ApnsEnvironment, string> = {
  production: 'api.push.apple.com',
  sandbox: 'api.sandbox.push.apple.com',
};

type ApnsApp = NonNullable<AppConfig['apns']>;

/**
 * Credentials for node-apn: token auth (`.p8` + team id + key id) when a key id is given,
 * else certificate auth (certFile + keyFile). Files are read by path; their content is never logged.
 */
function credentials(cfg: ApnsApp): apn.ProviderOptions {
  if (cfg.teamId && cfg.keyId && cfg.keyFile) {
    return { token: { key: cfg.keyFile, keyId: cfg.keyId, teamId: cfg.teamId } };
  }
  return { cert: cfg.certFile, key: cfg.keyFile };
}

/**
 * An endpoint override behaves like an egress proxy: the TLS connection goes to `host:port`
 * (trusting `caFile`), while SNI and `:authority` still name Apple's host of the environment, so
 * one fake or proxy serves both environments and can tell them apart.
 */
function connectVia(endpoint: ProviderEndpoint, cfg: ApnsApp): Partial<apn.ProviderOptions> {
  const ca = endpoint.caFile ? readFileSync(endpoint.caFile) : undefined;
  const clientCert =
    cfg.certFile && !cfg.keyId
      ? { cert: readFileSync(cfg.certFile), key: readFileSync(cfg.keyFile!) }
      : {};
  return {
    createConnection: (authority: URL) =>
      tls.connect({
        host: endpoint.host,
        port: endpoint.port,
        ca,
        servername: authority.hostname,
        ALPNProtocols: ['h2'],
        ...clientCert,
      }),
  } as Partial<apn.ProviderOptions>;
}

/** One pool per (app, environment), built once at boot from the apps file. */
export class ApnsPools {
  private readonly logger = new Logger(ApnsPools.name);
  private readonly pools = new Map<string, ApnsPool>();

  constructor(apps: AppsRegistry, env: ApnsEnv) {
    for (const app of apps.all()) {
      const cfg = app.apns;
      if (!cfg) continue;
      for (const environment of cfg.environments) {
        try {
          const options: apn.ProviderOptions = {
            ...credentials(cfg),
            address: APPLE_HOSTS[environment],
            production: environment === 'production',
            ...(cfg.endpoint ? connectVia(cfg.endpoint, cfg) : {}),
          };
          this.pools.set(
            `${app.id}|${environment}`,
            new ApnsPool(env.APNS_CONNECTIONS_PER_POOL, env.APNS_MAX_IN_FLIGHT_PER_CONNECTION, {
              label: { app: app.id, environment },
              providerOptions: options,
              requestTimeoutMs: env.APNS_REQUEST_TIMEOUT_MS,
              pingIntervalMs: env.APNS_PING_INTERVAL_MS,
              pingTimeoutMs: env.APNS_PING_TIMEOUT_MS,
              stuckAfterTimeouts: env.APNS_STUCK_AFTER_TIMEOUTS,
            }),
          );
        } catch (e) {
          throw new Error(
            `app ${app.id}: cannot set up APNs (${environment}): ${(e as Error).message}`,
          );
        }
      }
      this.logger.log({ msg: 'APNs pools ready', app: app.id, environments: cfg.environments });
    }
  }

  get(appId: string, environment: ApnsEnvironment): ApnsPool | undefined {
    return this.pools.get(`${appId}|${environment}`);
  }

  get inFlight(): number {
    let n = 0;
    for (const p of this.pools.values()) n += p.inFlight;
    return n;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
  }
}
