import { AppsRegistry, hashApiKey, loadAppsFile } from '@app/config';
import { FakeFcm, uniqueId } from '@app/testing';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

/** A fake FCM and an apps file with tenants pointed at it (real service account keys, made now). */
export interface FcmFixture {
  fake: FakeFcm;
  dir: string;
  appsFile: string;
  apps: AppsRegistry;
  /** Tenant ids, unique per run: `main` and `other` use different projects. */
  appId: string;
  otherAppId: string;
  /** A tenant without an `fcm` section. */
  noFcmAppId: string;
  projectId: string;
}

export async function startFcmFixture(): Promise<FcmFixture> {
  const fake = await FakeFcm.start({ defaultRetryAfterSeconds: 2 });
  const dir = mkdtempSync(join(tmpdir(), 'fcm-it-'));
  const appId = uniqueId('fcmapp');
  const otherAppId = uniqueId('fcmother');
  const noFcmAppId = uniqueId('nofcm');
  const projectId = `${appId}-project`;
  const tenant = (id: string, project: string) => ({
    id,
    apiKeys: [hashApiKey(`${id}-key`)],
    fcm: {
      projectId: project,
      serviceAccountFile: fake.writeServiceAccount(project, dir),
      endpoint: fake.endpoint(),
    },
  });
  const appsFile = join(dir, 'apps.yaml');
  writeFileSync(
    appsFile,
    stringify({
      apps: [
        tenant(appId, projectId),
        tenant(otherAppId, `${otherAppId}-project`),
        { id: noFcmAppId, apiKeys: [hashApiKey(`${noFcmAppId}-key`)] },
      ],
    }),
  );
  return {
    fake,
    dir,
    appsFile,
    apps: new AppsRegistry(loadAppsFile(appsFile)),
    appId,
    otherAppId,
    noFcmAppId,
    projectId,
  };
}
