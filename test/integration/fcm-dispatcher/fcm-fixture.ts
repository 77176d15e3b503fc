import { AppsRegistry, loadAppsFile } from '@app/config';
import { FakeFcm, fcmAtFake, uniqueId, writeAppsFile } from '@app/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
  const appsFile = writeAppsFile(
    [
      { id: appId, fcm: fcmAtFake(fake, projectId, dir) },
      { id: otherAppId, fcm: fcmAtFake(fake, `${otherAppId}-project`, dir) },
      { id: noFcmAppId },
    ],
    { dir },
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
