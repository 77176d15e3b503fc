import type { INestApplication } from '@nestjs/common';
import { TOPICS, type TokenUserDevices } from '@app/contracts';
import {
  apnsToken,
  fcmToken,
  REPO_ROOT,
  testKafka,
  TopicRecorder,
  uniqueId,
  waitFor,
} from '@app/testing';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { DataSource } from 'typeorm';
import { DevicesService } from '@apps/token-registry/devices/devices.service';
import { OutboxWriter } from '@apps/token-registry/outbox/outbox.writer';
import { republishAll } from '@apps/token-registry/outbox/republish.job';
import { SettingsService } from '@apps/token-registry/users/settings.service';
import { migratedDataSource, startRegistry } from './registry.fixture';

const run = promisify(execFile);
const tsx = (script: string, args: string[] = []) =>
  run(process.execPath, [`${REPO_ROOT}/node_modules/tsx/dist/cli.mjs`, script, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn' },
    timeout: 60000,
  });

/** Rebuilding the compacted topic from the database, alongside live changes. */
describe('token-registry republish and migrate commands', () => {
  let app: INestApplication;
  let ds: DataSource;
  let tail: TopicRecorder;
  const kafka = testKafka('registry-republish-test');

  beforeAll(async () => {
    ds = await migratedDataSource();
    tail = await TopicRecorder.start(kafka, TOPICS.tokenUserDevices.name);
    app = await startRegistry({ REGISTRY_INVALIDATION_CONSUMER: 'false' });
  });

  afterAll(async () => {
    await app?.close();
    await tail?.stop();
    await ds?.destroy();
  });

  const snapshotsOf = (appId: string, userId: string) =>
    tail.forKey<TokenUserDevices>(`${appId}:${userId}`).map((r) => r.value);
  const stored = async (appId: string, userId: string) => {
    const [u] = await ds.query<Array<{ version: string }>>(
      `SELECT version FROM registry_users WHERE app_id = $1 AND user_id = $2`,
      [appId, userId],
    );
    const devices = await ds.query<Array<{ device_id: string; token: string }>>(
      `SELECT device_id, token FROM registry_devices WHERE app_id = $1 AND user_id = $2 ORDER BY device_id`,
      [appId, userId],
    );
    return { version: Number(u.version), devices: devices.map((d) => [d.device_id, d.token]) };
  };
  /** The last snapshot published for the user equals the database, and versions only went up. */
  const expectTopicMatchesDb = async (appId: string, userId: string) => {
    const db = await stored(appId, userId);
    await waitFor(() => snapshotsOf(appId, userId).at(-1)?.version === db.version, {
      what: `${userId} at v${db.version} on the topic`,
    });
    const all = snapshotsOf(appId, userId);
    const versions = all.map((s) => s.version);
    expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
    expect(all.at(-1)!.devices.map((d) => [d.deviceId, d.token])).toEqual(db.devices);
  };

  it('republishes every user of an app with a new version, through the CLI', async () => {
    const appId = uniqueId('rp');
    const devices = app.get(DevicesService);
    const users = [uniqueId('u'), uniqueId('u'), uniqueId('u')];
    for (const u of users) {
      await devices.register({ appId, userId: u, deviceId: 'phone' }, iosInput());
      await devices.register({ appId, userId: u, deviceId: 'pixel' }, androidInput());
    }
    await app.get(SettingsService).update({ appId, userId: users[0] }, { hidePreview: true });
    for (const u of users) await expectTopicMatchesDb(appId, u);
    const before = snapshotsOf(appId, users[0]).at(-1)!;

    const { stdout } = await tsx('apps/token-registry/src/outbox/republish.ts', ['--app', appId]);
    expect(stdout).toContain('"msg":"snapshots written to the outbox","users":3');

    for (const u of users) {
      await expectTopicMatchesDb(appId, u);
      expect((await stored(appId, u)).version).toBe(u === users[0] ? 4 : 3);
    }
    const after = snapshotsOf(appId, users[0]).at(-1)!;
    expect(after.version).toBe(before.version + 1);
    expect({ ...after, version: 0, updatedAt: '' }).toEqual({
      ...before,
      version: 0,
      updatedAt: '',
    });
  });

  it('never lets a republished snapshot land after a newer live change', async () => {
    const appId = uniqueId('rp');
    const devices = app.get(DevicesService);
    const users = Array.from({ length: 8 }, () => uniqueId('u'));
    for (const u of users) {
      await devices.register({ appId, userId: u, deviceId: 'phone' }, iosInput());
    }
    const live = (async () => {
      for (let i = 0; i < 15; i++) {
        await devices.register({ appId, userId: users[i % 3], deviceId: `d${i}` }, iosInput());
      }
    })();
    const republished = republishAll(ds, app.get(OutboxWriter), {
      appId,
      batchSize: 2,
      pauseMs: 5,
    });
    const [, count] = await Promise.all([live, republished]);
    expect(count).toBe(8);
    for (const u of users) await expectTopicMatchesDb(appId, u);
  });

  it('migrate:registry applies nothing when the schema is current', async () => {
    const { stdout } = await tsx('apps/token-registry/src/database/migrate.ts');
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toMatchObject({
      msg: 'migrations applied',
      applied: [],
    });
  });
});

const iosInput = () => ({
  platform: 'ios' as const,
  provider: 'apns' as const,
  token: apnsToken(),
  topic: null,
  environment: 'production' as const,
  pushType: 'alert' as const,
  locale: null,
});
const androidInput = () => ({
  platform: 'android' as const,
  provider: 'fcm' as const,
  token: fcmToken(),
  topic: null,
  environment: null,
  pushType: null,
  locale: null,
});
