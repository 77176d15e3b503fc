import type { ApnsRequest, FcmRequest, RegisteredDevice } from '@app/contracts';
import type { AppConfig } from '@app/config';

/** What a lifecycle push (recall, read sync) is made of, whatever the provider. */
export interface LifecycleBase {
  jobId: string;
  appId: string;
  userId: string;
  /** The message the push is about (a recall), or `read:<conversation>` (a read sync). */
  messageId: string;
  sentAt: string;
  now: Date;
  expiresAt: Date;
}

export interface ApnsLifecycle {
  payload: Record<string, unknown>;
  /** A background push (content-available, priority 5) or an alert (priority 10). */
  background: boolean;
  collapseId: string | null;
}

export type LifecycleRequest =
  | { kind: 'apns'; request: ApnsRequest; bytes: number }
  | { kind: 'fcm'; request: FcmRequest; bytes: number };

const REQUEST_OVERHEAD_BYTES = 700;
const jsonBytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v), 'utf8');

/**
 * The provider request of a lifecycle push to one device; undefined for an APNs device without a
 * topic (its messages were rejected `no_apns_topic` too, so it shows nothing to replace) or with a
 * VoIP token.
 */
export function buildLifecycleRequest(
  device: RegisteredDevice,
  app: AppConfig | undefined,
  base: LifecycleBase,
  apns: () => ApnsLifecycle,
  fcm: () => Record<string, unknown>,
): LifecycleRequest | undefined {
  const common = {
    jobId: base.jobId,
    appId: base.appId,
    userId: base.userId,
    deviceId: device.deviceId,
    messageId: base.messageId,
    token: device.token,
    createdAt: base.now.toISOString(),
    sentAt: base.sentAt,
    expiresAt: base.expiresAt.toISOString(),
    attempt: 0,
  };
  const overhead = device.token.length + REQUEST_OVERHEAD_BYTES;
  if (device.provider !== 'apns') {
    const message = fcm();
    return { kind: 'fcm', bytes: jsonBytes(message) + overhead, request: { ...common, message } };
  }
  const topic = device.topic ?? app?.apns?.topics[0];
  // A VoIP token takes VoIP pushes only (each must report a call): no lifecycle push goes there.
  if (!topic || device.pushType === 'voip') return undefined;
  const a = apns();
  const request: ApnsRequest = {
    ...common,
    topic,
    environment: device.environment ?? 'production',
    pushType: a.background ? 'background' : 'alert',
    priority: a.background ? 5 : 10,
    collapseId: a.collapseId,
    payload: a.payload,
  };
  return { kind: 'apns', bytes: jsonBytes(a.payload) + overhead, request };
}
