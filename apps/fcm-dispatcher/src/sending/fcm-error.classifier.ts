import type { SendResult } from '@app/dispatch';

/** What the classifier needs to know about a failed send besides the error itself. */
export interface ClassifyHints {
  /** Retry-After the FCM project's last throttling answer carried, in ms from now. */
  retryAfterMs?: number;
  /** Floor for quota errors (Google asks for at least a minute). */
  quotaMinDelayMs: number;
}

/** The parts of a firebase-admin error the dispatcher reads (`code` like `messaging/...`). */
export interface FirebaseErrorLike {
  code?: string;
  message?: string;
}

/** Why a result counts against the credentials rather than the request: feeds the alarm metric. */
export type AuthAlarm = 'mismatched_credential' | 'third_party_auth' | 'credential';

export interface Classified {
  result: SendResult;
  authAlarm?: AuthAlarm;
}

const QUOTA = new Set([
  'message-rate-exceeded',
  'device-message-rate-exceeded',
  'topics-message-rate-exceeded',
]);
const TRANSIENT = new Set(['server-unavailable', 'internal-error', 'unknown-error']);
const PAYLOAD = new Set([
  'invalid-payload',
  'payload-size-limit-exceeded',
  'invalid-data-payload-key',
  'invalid-options',
  'invalid-package-name',
  'invalid-recipient',
]);

/**
 * Maps one firebase-admin error to what the dispatcher does with the job. firebase-admin keeps
 * only Google's message (not the field violations), so an INVALID_ARGUMENT is about the token
 * exactly when its message speaks of the registration token, as Google's does
 * ("The registration token is not a valid FCM registration token").
 */
export function classifyFcmError(err: FirebaseErrorLike, hints: ClassifyHints): Classified {
  const full = err.code ?? 'unknown';
  const [ns, code = ''] = full.includes('/') ? full.split('/', 2) : ['', full];
  const message = (err.message ?? full).slice(0, 900);
  const upper = code.toUpperCase().replace(/-/g, '_');
  const retry = (extra: { minDelayMs?: number } = {}): SendResult => ({
    kind: 'retry',
    code: upper || 'UNKNOWN',
    message,
    retryAfterMs: hints.retryAfterMs,
    ...extra,
  });
  if (ns !== 'messaging') {
    // app/invalid-credential (the token request failed), app/network-error, -timeout: ours or
    // the network's, never the token's.
    return { result: retry(), authAlarm: code === 'invalid-credential' ? 'credential' : undefined };
  }
  if (code === 'registration-token-not-registered') {
    return {
      result: {
        kind: 'invalid_token',
        code: 'UNREGISTERED',
        message,
        invalidation: { reason: 'unregistered' },
      },
    };
  }
  if (
    code === 'invalid-registration-token' ||
    (code === 'invalid-argument' && /registration token/i.test(message))
  ) {
    return {
      result: {
        kind: 'invalid_token',
        code: 'INVALID_ARGUMENT',
        message,
        invalidation: { reason: 'invalid_argument' },
      },
    };
  }
  if (code === 'invalid-argument' || PAYLOAD.has(code)) {
    return { result: { kind: 'rejected', code: upper, message } };
  }
  // The token belongs to another sender, or our service account may not send for this project:
  // either way a configuration problem, not the token's; nothing is invalidated.
  if (code === 'mismatched-credential') {
    return {
      result: { kind: 'rejected', code: 'SENDER_ID_MISMATCH', message },
      authAlarm: 'mismatched_credential',
    };
  }
  if (QUOTA.has(code)) return { result: retry({ minDelayMs: hints.quotaMinDelayMs }) };
  if (code === 'third-party-auth-error') return { result: retry(), authAlarm: 'third_party_auth' };
  if (TRANSIENT.has(code)) return { result: retry() };
  return { result: retry() };
}
