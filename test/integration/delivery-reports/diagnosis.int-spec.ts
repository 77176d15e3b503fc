import type { INestApplication } from '@nestjs/common';
import type { PushOutcome } from '@app/contracts';
import { EventProducer } from '@app/kafka';
import {
  apnsDevice,
  fcmDevice,
  publishPresence,
  publishTokens,
  testKafka,
  uniqueId,
} from '@app/testing';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { outcomeRow } from '@apps/delivery-reports/store/outcome-rows';
import { OutcomeStore } from '@apps/delivery-reports/store/outcome.store';
import {
  DEMO,
  OTHER,
  dropSchema,
  migratedDataSource,
  outcome,
  startReports,
  testSchema,
} from './reports.fixture';

interface DeviceView {
  deviceId: string;
  tokenPreview: string;
  environment: string | null;
  presence: { status: string; routingStatus: string; app: string | null } | null;
  nextMessage: { push: boolean; rule: string | null; sentence: string };
}
interface Diagnosis {
  knownUser: boolean;
  summary: string;
  devices: DeviceView[];
  settings: {
    pushEnabled: boolean;
    snoozedNow: boolean;
    dnd: { activeNow: boolean } | null;
  } | null;
  notes: string[];
  lastOutcomes: Array<{ status: string; deviceId: string | null; code: string | null }>;
}

const IPHONE_TOKEN = 'c0ffee'.repeat(10) + 'beef';
const HOUR = 3_600_000;

/**
 * The diagnosis against the real broker (the users' token and presence snapshots as the registry
 * and presence publish them) and PostgreSQL (their last outcomes): one case per rule routing's
 * tests cover, answered by routing's own rules.
 */
describe('delivery-reports diagnosis', () => {
  const schema = testSchema();
  let app: INestApplication;
  let ds: DataSource;
  let producer: EventProducer;
  const u = (name: string) => uniqueId(`diag-${name}`);
  const users = {
    foreground: u('foreground'),
    background: u('background'),
    conversation: u('conversation'),
    mentions: u('mentions'),
    dnd: u('dnd'),
    snooze: u('snooze'),
    disabled: u('disabled'),
    offline: u('offline'),
    noDevices: u('nodevices'),
    invalid: u('invalid'),
    unknown: u('unknown'),
  };

  beforeAll(async () => {
    ds = await migratedDataSource(schema);
    app = await startReports(schema, { DELIVERY_REPORTS_STORE_CONSUMER: 'false' });
    producer = new EventProducer(testKafka('diagnosis-it'));
    await producer.connect();
    const iphone = () => apnsDevice('iphone', IPHONE_TOKEN);
    const online = (status: 'online' | 'push_online', app: 'foreground' | 'background') => [
      { deviceId: 'iphone', status, app },
    ];
    await publishTokens(producer, users.foreground, [iphone()]);
    await publishPresence(producer, users.foreground, online('online', 'foreground'));
    await publishTokens(producer, users.background, [iphone(), fcmDevice('pixel')]);
    await publishPresence(producer, users.background, online('push_online', 'background'));
    await publishTokens(producer, users.conversation, [iphone()], {
      conversations: { 'group:g-muted': 'receive_not_notify' },
    });
    await publishTokens(producer, users.mentions, [iphone()], {
      conversations: { 'c2c:bob': 'receive_except_at' },
    });
    await publishTokens(producer, users.dnd, [iphone()], {
      dnd: { startSecondOfDay: 0, durationSeconds: 86400, timeZone: 'Europe/Paris' },
    });
    const snoozeUntil = new Date(Date.now() + HOUR).toISOString();
    await publishTokens(producer, users.snooze, [iphone()], { snoozeUntil });
    await publishTokens(producer, users.disabled, [iphone()], { pushEnabled: false });
    await publishTokens(producer, users.offline, [iphone()]);
    await publishPresence(producer, users.offline, [{ deviceId: 'iphone', status: 'offline' }]);
    await publishTokens(producer, users.noDevices, []);
    await publishTokens(producer, users.invalid, [fcmDevice('tablet')]);
    const stored: PushOutcome[] = [
      outcome({ userId: users.background, deviceId: 'iphone', messageId: 'm-sent' }),
      outcome({
        userId: users.foreground,
        deviceId: 'iphone',
        status: 'suppressed',
        code: 'online',
        attempts: 0,
        latencyMs: null,
      }),
      outcome({
        userId: users.invalid,
        deviceId: 'old-phone',
        provider: 'fcm',
        status: 'invalid_token',
        code: 'UNREGISTERED',
        messageId: 'm-invalid',
      }),
    ];
    await app.get(OutcomeStore).store(stored.map(outcomeRow));
  }, 60000);

  afterAll(async () => {
    await producer?.disconnect();
    await app?.close();
    await dropSchema(ds, schema);
  });

  async function diagnosis(userId: string, query = ''): Promise<Diagnosis> {
    const res = await request(app.getHttpServer())
      .get(`/v1/apps/demo/users/${userId}/diagnosis${query}`)
      .set('authorization', DEMO.auth);
    expect(res.status).toBe(200);
    return res.body as Diagnosis;
  }
  const only = (d: Diagnosis) => {
    expect(d.devices).toHaveLength(1);
    return d.devices[0].nextMessage;
  };

  it('says a foreground user was online, and shows her last outcome', async () => {
    const d = await diagnosis(users.foreground);
    expect(only(d)).toEqual({ push: false, rule: 'online', sentence: expect.any(String) });
    expect(only(d).sentence).toMatch(/would not be pushed \(online\): the device is online/);
    expect(only(d).sentence).toMatch(/app in the foreground/);
    expect(d.devices[0].presence).toMatchObject({ status: 'online', app: 'foreground' });
    expect(d.lastOutcomes).toEqual([
      expect.objectContaining({ status: 'suppressed', code: 'online' }),
    ]);
  });

  it('says a background device would be pushed, and a device without presence too', async () => {
    const d = await diagnosis(users.background);
    expect(d.devices.map((x) => [x.deviceId, x.nextMessage.push])).toEqual([
      ['iphone', true],
      ['pixel', true],
    ]);
    expect(d.devices[0].nextMessage.sentence).toMatch(
      /iphone \(apns, sandbox\): the next message would be pushed \(push_online, app in the background/,
    );
    expect(d.devices[1].nextMessage.sentence).toMatch(/presence unknown/);
    expect(d.lastOutcomes).toEqual([expect.objectContaining({ status: 'delivered' })]);
  });

  it('explains a conversation set to receive without notification, only for that conversation', async () => {
    const muted = await diagnosis(users.conversation, '?conversation=group:g-muted');
    expect(only(muted).rule).toBe('receive_not_notify');
    expect(only(muted).sentence).toMatch(
      /conversation group:g-muted is set to receive without notification/,
    );
    expect(only(await diagnosis(users.conversation)).push).toBe(true);
    const mentions = await diagnosis(users.mentions, '?conversation=c2c:bob');
    expect(only(mentions).rule).toBe('receive_except_at');
  });

  it('explains DND, snooze and push turned off', async () => {
    const dnd = await diagnosis(users.dnd);
    expect(only(dnd).rule).toBe('dnd');
    expect(only(dnd).sentence).toMatch(
      /do-not-disturb window 00:00 for 24 h \(Europe\/Paris\) is on/,
    );
    expect(dnd.settings?.dnd?.activeNow).toBe(true);
    const snooze = await diagnosis(users.snooze);
    expect(only(snooze).rule).toBe('snooze');
    expect(snooze.settings?.snoozedNow).toBe(true);
    const disabled = await diagnosis(users.disabled);
    expect(only(disabled).rule).toBe('push_disabled');
    expect(only(disabled).sentence).toMatch(/turned push off/);
  });

  it('explains an offline device', async () => {
    const d = await diagnosis(users.offline);
    expect(only(d).rule).toBe('offline');
    expect(only(d).sentence).toMatch(/the device is offline \(offline, last seen /);
  });

  it('explains a user without devices, and an invalid token that was removed', async () => {
    const none = await diagnosis(users.noDevices);
    expect(none.knownUser).toBe(true);
    expect(none.devices).toEqual([]);
    expect(none.summary).toMatch(
      /Nothing would be pushed \(no_device\): the user has no registered device/,
    );
    const invalid = await diagnosis(users.invalid);
    expect(invalid.devices.map((x) => x.deviceId)).toEqual(['tablet']);
    expect(invalid.notes).toEqual([
      expect.stringMatching(
        /old-phone \(fcm\): its last push \(message m-invalid.*invalid token \(UNREGISTERED\)/,
      ),
    ]);
    expect(invalid.summary).toContain(invalid.notes[0]);
  });

  it('answers for an unknown user', async () => {
    const d = await diagnosis(users.unknown);
    expect(d).toMatchObject({ knownUser: false, devices: [], settings: null, lastOutcomes: [] });
    expect(d.summary).toMatch(/knows nothing of user/);
  });

  it('shows token previews, never a whole token', async () => {
    const res = await request(app.getHttpServer())
      .get(`/v1/apps/demo/users/${users.background}/diagnosis`)
      .set('authorization', DEMO.auth);
    expect(res.text).not.toContain(IPHONE_TOKEN);
    expect(res.text).not.toContain(fcmDevice('pixel').token);
    expect((res.body as Diagnosis).devices[0].tokenPreview).toBe('c0ffee…beef');
    expect((res.body as Diagnosis).devices[0].environment).toBe('sandbox');
  });

  it('takes the app key (401, 403) and checks the conversation (400)', async () => {
    const path = `/v1/apps/demo/users/${users.foreground}/diagnosis`;
    expect((await request(app.getHttpServer()).get(path)).status).toBe(401);
    const other = await request(app.getHttpServer()).get(path).set('authorization', OTHER.auth);
    expect(other.status).toBe(403);
    const bad = await request(app.getHttpServer())
      .get(`${path}?conversation=nope`)
      .set('authorization', DEMO.auth);
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(bad.body.errors[0].field).toBe('conversation');
  });
});
