import { Logger } from '@nestjs/common';
import type { AppConfig, AppsRegistry } from '@app/config';
import { cert, deleteApp, initializeApp, type App } from 'firebase-admin/app';
import { getMessaging, type Messaging } from 'firebase-admin/messaging';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { RedirectAgent } from './redirect.agent';
import { ServiceAccountCredential } from './service-account.credential';

/** One tenant's firebase-admin app, built once at boot. */
export interface FcmTenant {
  appId: string;
  projectId: string;
  messaging: Messaging;
  app: App;
  /** Set when the apps file redirects this tenant's traffic (fakes, egress proxies). */
  redirected: boolean;
}

const ServiceAccountSchema = z.object({
  client_email: z.string().min(1),
  private_key: z.string().includes('PRIVATE KEY'),
  project_id: z.string().optional(),
});

export interface FcmAppsOptions {
  /** Connections per host on the legacy transport. */
  maxSockets: number;
}

/**
 * The firebase-admin apps of every tenant with an `fcm` section. Production uses the library's
 * default transport (HTTP/2 to fcm.googleapis.com) and its `cert()` credential. With an endpoint
 * override, a `RedirectAgent` carries both the OAuth token request and the sends (legacy HTTP/1.1
 * transport: `AppOptions.httpAgent` is only used there) to the endpoint.
 */
export class FcmApps {
  private readonly logger = new Logger(FcmApps.name);
  private readonly tenants = new Map<string, FcmTenant>();

  constructor(apps: AppsRegistry, opts: FcmAppsOptions) {
    for (const app of apps.all()) {
      if (app.fcm) this.tenants.set(app.id, this.build(app, app.fcm, opts));
    }
  }

  get(appId: string): FcmTenant | undefined {
    return this.tenants.get(appId);
  }

  all(): FcmTenant[] {
    return [...this.tenants.values()];
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.all().map((t) => deleteApp(t.app)));
    this.tenants.clear();
  }

  private build(
    app: AppConfig,
    fcm: NonNullable<AppConfig['fcm']>,
    opts: FcmAppsOptions,
  ): FcmTenant {
    const sa = readServiceAccount(app.id, fcm.serviceAccountFile);
    const name = `fcm-${app.id}`;
    let firebaseApp: App;
    if (fcm.endpoint) {
      const ca = fcm.endpoint.caFile ? readFileSync(fcm.endpoint.caFile, 'utf8') : undefined;
      const agent = new RedirectAgent(
        { host: fcm.endpoint.host, port: fcm.endpoint.port, ca },
        { maxSockets: opts.maxSockets },
      );
      firebaseApp = initializeApp(
        {
          credential: new ServiceAccountCredential(sa, agent),
          projectId: fcm.projectId,
          httpAgent: agent,
        },
        name,
      );
    } else {
      firebaseApp = initializeApp(
        {
          credential: cert({
            projectId: fcm.projectId,
            clientEmail: sa.client_email,
            privateKey: sa.private_key,
          }),
          projectId: fcm.projectId,
        },
        name,
      );
    }
    const messaging = getMessaging(firebaseApp);
    if (fcm.endpoint) messaging.enableLegacyHttpTransport();
    disableLibraryRetries(messaging);
    this.logger.log({
      msg: 'FCM app ready',
      appId: app.id,
      projectId: fcm.projectId,
      redirected: !!fcm.endpoint,
    });
    return {
      appId: app.id,
      projectId: fcm.projectId,
      messaging,
      app: firebaseApp,
      redirected: !!fcm.endpoint,
    };
  }
}

function readServiceAccount(appId: string, file: string): z.infer<typeof ServiceAccountSchema> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(
      `app ${appId}: cannot read the FCM service account file ${file}: ${(e as Error).message}`,
    );
  }
  const parsed = ServiceAccountSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `app ${appId}: ${file} is not a service account JSON (needs client_email and private_key)`,
    );
  }
  return parsed.data;
}

/**
 * firebase-admin retries 503s and connection resets itself, up to 4 times and up to a minute
 * each, inside `sendEach`: that would hold a batch slot (and its Kafka partition) for minutes.
 * The dispatcher schedules those retries on its retry topic instead, so the library's own are
 * turned off. The request handler is internal API: if its shape changes, this leaves the library
 * as it is and says so.
 */
function disableLibraryRetries(messaging: Messaging): void {
  const handler = (
    messaging as unknown as { messagingRequestHandler?: Record<string, { retry?: unknown }> }
  ).messagingRequestHandler;
  const clients = [handler?.httpClient, handler?.http2Client];
  if (clients.some((c) => !c || !('retry' in c))) {
    new Logger(FcmApps.name).warn('firebase-admin internals changed: its own 503 retries stay on');
    return;
  }
  for (const c of clients) c!.retry = null;
}
