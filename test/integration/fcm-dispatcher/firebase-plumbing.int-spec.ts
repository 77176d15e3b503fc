import { AppsRegistry } from '@app/config';
import { tenantConfig, uniqueId } from '@app/testing';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FcmApps } from '@apps/fcm-dispatcher/firebase/fcm-apps';
import { startFcmFixture, type FcmFixture } from './fcm-fixture';

/** firebase-admin itself, redirected to the fake: the real credential flow and the real sends. */
describe('firebase-admin through the endpoint override', () => {
  let fx: FcmFixture;
  let apps: FcmApps;

  beforeAll(async () => {
    fx = await startFcmFixture();
    apps = new FcmApps(fx.apps, { maxSockets: 16 });
  });

  afterAll(async () => {
    await apps?.close();
    await fx?.fake.stop();
  });

  it('fetches an OAuth token with the service account key and sends with it', async () => {
    const tenant = apps.get(fx.appId)!;
    const res = await tenant.messaging.sendEach([
      { token: 'tok-ok-00000001', data: { a: '1' } },
      { token: 'fake-unregistered-0001', data: { a: '2' } },
    ]);
    expect(res.responses[0].error?.message).toBeUndefined();
    expect(res.responses[0].success).toBe(true);
    expect(res.responses[0].messageId).toMatch(new RegExp(`^projects/${fx.projectId}/messages/`));
    expect(res.responses[1].error?.code).toBe('messaging/registration-token-not-registered');
    expect(fx.fake.tokenRequests).toBeGreaterThanOrEqual(1);
    const got = fx.fake.sendsTo('tok-ok-00000001');
    expect(got).toHaveLength(1);
    expect(got[0].httpVersion).toBe('1.1');
    expect(got[0].projectId).toBe(fx.projectId);
  });

  it('refuses to start with a tenant whose service account cannot be used, naming the app', () => {
    const id = uniqueId('badsa');
    const registry = (serviceAccountFile: string) =>
      new AppsRegistry({
        apps: [tenantConfig({ id, apiKey: 'k', fcm: { projectId: 'p', serviceAccountFile } })],
      });
    expect(() => new FcmApps(registry(join(fx.dir, 'missing.json')), { maxSockets: 1 })).toThrow(
      new RegExp(`app ${id}: cannot read the FCM service account file`),
    );
    const notSa = join(fx.dir, `${id}.json`);
    writeFileSync(notSa, JSON.stringify({ type: 'authorized_user' }));
    expect(() => new FcmApps(registry(notSa), { maxSockets: 1 })).toThrow(
      /is not a service account JSON/,
    );
  });

  it('builds production tenants on the default transport without any network call', async () => {
    const id = uniqueId('prod');
    const sa = fx.fake.writeServiceAccount('prod-project', fx.dir);
    const prod = new FcmApps(
      new AppsRegistry({
        apps: [
          tenantConfig({
            id,
            apiKey: 'k',
            fcm: { projectId: 'prod-project', serviceAccountFile: sa },
          }),
        ],
      }),
      { maxSockets: 1 },
    );
    const tenant = prod.get(id)!;
    expect(tenant.redirected).toBe(false);
    expect(tenant.app.options.projectId).toBe('prod-project');
    expect(tenant.app.options.httpAgent).toBeUndefined();
    await prod.close();
  });
});
