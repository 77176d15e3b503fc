import { createHash, timingSafeEqual } from 'node:crypto';
import type { AppConfig, AppsFile } from './apps-file.schema';

/** The tenants of this deployment, looked up by id or by API key. */
export class AppsRegistry {
  private readonly byId: ReadonlyMap<string, AppConfig>;
  private readonly keys: ReadonlyArray<{ digest: Buffer; appId: string }>;

  constructor(file: AppsFile) {
    this.byId = new Map(file.apps.map((a) => [a.id, a]));
    this.keys = file.apps.flatMap((a) =>
      a.apiKeys.map((k) => ({
        digest: Buffer.from(k.slice('sha256:'.length), 'hex'),
        appId: a.id,
      })),
    );
  }

  get(appId: string): AppConfig | undefined {
    return this.byId.get(appId);
  }

  all(): AppConfig[] {
    return [...this.byId.values()];
  }

  /**
   * The app an API key belongs to. Every stored digest is compared, in constant time, so the
   * answer's timing says nothing about which key or how much of it matched.
   */
  appForApiKey(apiKey: string): string | undefined {
    const digest = createHash('sha256').update(apiKey, 'utf8').digest();
    let found: string | undefined;
    for (const k of this.keys) {
      if (timingSafeEqual(k.digest, digest) && found === undefined) found = k.appId;
    }
    return found;
  }
}

export const hashApiKey = (apiKey: string): string =>
  `sha256:${createHash('sha256').update(apiKey, 'utf8').digest('hex')}`;
