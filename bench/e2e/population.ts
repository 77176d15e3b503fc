/**
 * The benchmark's users: `u0` … `u<N-1>`, one device each (even: an iPhone, odd: an Android phone),
 * and a presence mix by pairs of users: foreground (routing suppresses: online), background
 * (pushed), unknown (no report: pushed). A sample goes through the real paths (the registry's
 * HTTP API, which writes PostgreSQL and publishes through its outbox; presence's HTTP report);
 * the rest is published directly: `token.user-devices.v1` snapshots built by the registry's own
 * snapshot builder, and the `presence.device-event.v1` events presence's report endpoint would
 * publish (presence computes the state from them as it does for the sample).
 */
import { TOPICS, type PresenceDeviceEvent, type TokenUserDevices } from '@app/contracts';
import type { EventProducer } from '@app/kafka';
import { createHash } from 'node:crypto';
import { buildSnapshot, type UserState } from '@apps/token-registry/snapshot/snapshot.builder';
import type { DeviceEntity } from '@apps/token-registry/devices/device.entity';
import { produceAll } from '../routing/bench.kafka';

export const APP = 'bench';
export const API_KEY = 'bench-api-key';
export const APNS_TOPIC = 'com.example.chat';
export const FCM_PROJECT = 'bench-project';
export const DEVICE = 'phone';

export type PresenceKind = 'foreground' | 'background' | 'unknown';
export const userId = (i: number): string => `u${i}`;
export const platformOf = (i: number): 'ios' | 'android' => (i % 2 === 0 ? 'ios' : 'android');
const KINDS: PresenceKind[] = ['foreground', 'background', 'unknown'];
export const presenceOf = (i: number): PresenceKind => KINDS[Math.floor(i / 2) % 3];
/** Whether a message to user i ends as a push (not in the foreground). */
export const pushed = (i: number): boolean => presenceOf(i) !== 'foreground';
/** Users among u0 … u<size-1> that get a push. */
export const pushedAmong = (size: number): number => {
  let n = 0;
  for (let i = 0; i < size; i++) if (pushed(i)) n++;
  return n;
};

const sha = (s: string, enc: 'hex' | 'base64url') => createHash('sha256').update(s).digest(enc);
/** A 64-hex APNs token, or a ~160-character FCM registration token, stable per user. */
export function tokenOf(i: number): string {
  if (platformOf(i) === 'ios') return sha(`ios-${i}`, 'hex');
  return `${sha(`fcm-a-${i}`, 'base64url').slice(0, 22)}:APA91b${sha(`fcm-b-${i}`, 'base64url')}${sha(`fcm-c-${i}`, 'base64url')}${sha(`fcm-d-${i}`, 'base64url').slice(0, 40)}`;
}

function registerBody(i: number): Record<string, string> {
  return platformOf(i) === 'ios'
    ? { platform: 'ios', token: tokenOf(i), topic: APNS_TOPIC, environment: 'production' }
    : { platform: 'android', token: tokenOf(i) };
}

async function call(port: number, method: string, path: string, body: unknown): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10000),
      });
      await r.arrayBuffer();
      if (r.status < 500 || attempt >= 5) return r.status;
    } catch (e) {
      if (attempt >= 5) throw e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function mapLimit(n: number, limit: number, fn: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

export interface PathCost {
  count: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

async function timedCalls(
  count: number,
  concurrency: number,
  one: (i: number) => Promise<number | undefined>,
  expect: number,
): Promise<PathCost> {
  const lat: number[] = [];
  const t0 = performance.now();
  await mapLimit(count, concurrency, async (i) => {
    const t = performance.now();
    const status = await one(i);
    if (status === undefined) return;
    lat.push(performance.now() - t);
    if (status !== expect) throw new Error(`user ${i}: HTTP ${status} (expected ${expect})`);
  });
  const seconds = (performance.now() - t0) / 1000;
  return {
    count: lat.length,
    seconds: +seconds.toFixed(2),
    perSecond: Math.round(lat.length / seconds),
    p50Ms: +pct(lat, 50).toFixed(1),
    p99Ms: +pct(lat, 99).toFixed(1),
  };
}

/** The real paths for users 0 … count-1: the registry's device API, then presence's report API. */
export async function registerSample(
  count: number,
  ports: { registry: number; presence: number },
  concurrency = 16,
): Promise<{ registry: PathCost; presence: PathCost }> {
  const registry = await timedCalls(
    count,
    concurrency,
    (i) =>
      call(
        ports.registry,
        'PUT',
        `/v1/apps/${APP}/users/${userId(i)}/devices/${DEVICE}`,
        registerBody(i),
      ),
    200,
  );
  const presence = await timedCalls(
    count,
    concurrency,
    async (i) => {
      const kind = presenceOf(i);
      if (kind === 'unknown') return undefined;
      return call(
        ports.presence,
        'POST',
        `/v1/apps/${APP}/users/${userId(i)}/devices/${DEVICE}/presence`,
        kind === 'foreground'
          ? { type: 'foreground', platform: platformOf(i) }
          : { type: 'background', unreadCount: 1, platform: platformOf(i) },
      );
    },
    202,
  );
  return { registry, presence };
}

/**
 * The snapshot the registry would publish for user i: its own builder, given the row a fresh user
 * gets (the columns' defaults; a column added to the registry shows up here as a type error).
 */
export function snapshotOf(i: number, now: Date): TokenUserDevices {
  const user: UserState = {
    appId: APP,
    userId: userId(i),
    version: 1,
    pushEnabled: true,
    hidePreview: false,
    snoozeUntil: null,
    dndStartSecond: null,
    dndDurationSeconds: null,
    dndTimeZone: null,
    soundC2c: null,
    soundGroup: null,
    conversations: {},
    privacy: null,
    tags: [],
    attributes: {},
    updatedAt: now,
  };
  const ios = platformOf(i) === 'ios';
  const device = {
    appId: APP,
    userId: userId(i),
    deviceId: DEVICE,
    platform: platformOf(i),
    provider: ios ? 'apns' : 'fcm',
    token: tokenOf(i),
    topic: ios ? APNS_TOPIC : null,
    environment: ios ? 'production' : null,
    pushType: ios ? 'alert' : null,
    locale: null,
    createdAt: now,
    updatedAt: now,
  } as DeviceEntity;
  return buildSnapshot(user, [device]);
}

/** The event presence's report endpoint publishes for user i (none for `unknown`). */
export function deviceEventOf(i: number, now: Date): PresenceDeviceEvent | undefined {
  const kind = presenceOf(i);
  if (kind === 'unknown') return undefined;
  return {
    appId: APP,
    userId: userId(i),
    deviceId: DEVICE,
    platform: platformOf(i),
    type: kind,
    at: now.toISOString(),
    ...(kind === 'background' ? { unreadCount: 1 } : {}),
  };
}

/** Users from … to-1 published directly (snapshots, then device events); seconds each. */
export async function publishBulk(
  producer: EventProducer,
  from: number,
  to: number,
): Promise<{ snapshotsSeconds: number; eventsSeconds: number; events: number }> {
  const now = new Date();
  let t = performance.now();
  await produceAll(
    producer,
    TOPICS.tokenUserDevices,
    (function* () {
      for (let i = from; i < to; i++) yield snapshotOf(i, now);
    })(),
  );
  const snapshotsSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const events = await produceAll(
    producer,
    TOPICS.presenceDeviceEvent,
    (function* () {
      for (let i = from; i < to; i++) {
        const e = deviceEventOf(i, now);
        if (e) yield e;
      }
    })(),
  );
  return { snapshotsSeconds, eventsSeconds: (performance.now() - t) / 1000, events };
}

/** Users among u0 … u<n-1> presence holds once every report was applied. */
export const reportedAmong = (n: number): number => {
  let k = 0;
  for (let i = 0; i < n; i++) if (presenceOf(i) !== 'unknown') k++;
  return k;
};
