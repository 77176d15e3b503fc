import type { ApnsEnvironment, OutcomeStatus, TokenInvalidated } from '@app/contracts';

/** The fields every provider request shares (`push.apns.request.v1`, `push.fcm.request.v1`). */
export interface DispatchRequest {
  jobId: string;
  appId: string;
  userId: string;
  deviceId: string;
  messageId: string;
  token: string;
  createdAt: string;
  /** The message's sentAt (absent on requests written before it was carried). */
  sentAt?: string | null;
  expiresAt: string;
  /** Sends already tried before this one (0 on the request topic). */
  attempt: number;
  notBefore?: string | null;
}

export type DispatchProvider = 'apns' | 'fcm';

/** Asks the registry to drop (or, for `environment_mismatch`, correct) a token. */
export interface InvalidationHint {
  reason: TokenInvalidated['reason'];
  /** When the provider says the token stopped being valid (APNs `timestamp`, in ms). */
  providerTimestamp?: Date;
  /** For `environment_mismatch`: where the token did work. */
  environment?: ApnsEnvironment;
}

/**
 * What one send came to, as the provider-specific code classifies it. The library turns it into
 * records (outcome, invalidation, retry, dead letter) the same way for every provider.
 */
export type SendResult =
  | { kind: 'delivered'; code?: string; invalidation?: InvalidationHint; providerId?: string }
  | { kind: 'invalid_token'; code: string; message: string; invalidation: InvalidationHint }
  /** The request itself is wrong (payload, topic): an outcome plus a dead letter of the record. */
  | { kind: 'rejected'; code: string; message: string }
  /** Transient: scheduled again on the retry topic unless that would pass `expiresAt`. */
  | {
      kind: 'retry';
      code: string;
      message: string;
      /** The provider's Retry-After, in ms from now. */
      retryAfterMs?: number;
      /** A floor for this kind of error (e.g. FCM quota errors: at least a minute). */
      minDelayMs?: number;
    }
  /** Permanent and not the request's fault (e.g. the app has no credentials): outcome only. */
  | { kind: 'failed'; code: string; message: string };

export type TerminalStatus = Exclude<OutcomeStatus, 'suppressed'>;
