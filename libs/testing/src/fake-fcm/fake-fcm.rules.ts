/** The errors FCM HTTP v1 answers with (`details[].errorCode` of a `google.firebase.fcm.v1.FcmError`). */
export type FcmErrorCode =
  | 'UNREGISTERED'
  | 'INVALID_ARGUMENT'
  | 'SENDER_ID_MISMATCH'
  | 'QUOTA_EXCEEDED'
  | 'UNAVAILABLE'
  | 'INTERNAL'
  | 'THIRD_PARTY_AUTH_ERROR';

/** How the fake answers one send to a token. */
export type FakeFcmBehaviour =
  | { kind: 'ok' }
  | { kind: 'error'; code: FcmErrorCode; retryAfterSeconds?: number; message?: string }
  /** Waits, then answers as `then` says (default: success). */
  | { kind: 'slow'; delayMs: number; then?: FakeFcmBehaviour }
  /** No answer: the connection is cut (HTTP/1.1: socket destroyed; HTTP/2: stream reset). */
  | { kind: 'reset' }
  /**
   * The server goes away: HTTP/2 GOAWAY and the session closed; on HTTP/1.1 (the redirected
   * transport the dispatcher uses against the fake) the connection is closed gracefully (FIN)
   * without an answer.
   */
  | { kind: 'goaway' };

interface ErrorShape {
  httpStatus: number;
  status: string;
  message: string;
}

/** Status, canonical status and message as Google sends them for each FCM error code. */
export const FCM_ERRORS: Record<FcmErrorCode, ErrorShape> = {
  UNREGISTERED: {
    httpStatus: 404,
    status: 'NOT_FOUND',
    message: 'Requested entity was not found.',
  },
  INVALID_ARGUMENT: {
    httpStatus: 400,
    status: 'INVALID_ARGUMENT',
    message: 'The registration token is not a valid FCM registration token',
  },
  SENDER_ID_MISMATCH: {
    httpStatus: 403,
    status: 'PERMISSION_DENIED',
    message: 'SenderId mismatch',
  },
  QUOTA_EXCEEDED: {
    httpStatus: 429,
    status: 'RESOURCE_EXHAUSTED',
    message: 'Quota exceeded for quota metric of service fcm.googleapis.com',
  },
  UNAVAILABLE: {
    httpStatus: 503,
    status: 'UNAVAILABLE',
    message: 'The service is currently unavailable.',
  },
  INTERNAL: { httpStatus: 500, status: 'INTERNAL', message: 'Internal error encountered.' },
  THIRD_PARTY_AUTH_ERROR: {
    httpStatus: 401,
    status: 'UNAUTHENTICATED',
    message: 'Auth error from APNS or Web Push Service',
  },
};

/**
 * Token prefixes that pick a behaviour without registering a rule, so a fake running as its own
 * process (demo, benchmark) can be steered by the tokens alone: `fake-unregistered-…`,
 * `fake-slow-250-…` (250 ms, then success).
 */
export function behaviourFromToken(token: string, retryAfterSeconds: number): FakeFcmBehaviour {
  const m = /^fake-([a-z]+)-(?:(\d+)-)?/.exec(token);
  if (!m) return { kind: 'ok' };
  const byName: Record<string, FcmErrorCode> = {
    unregistered: 'UNREGISTERED',
    invalid: 'INVALID_ARGUMENT',
    mismatch: 'SENDER_ID_MISMATCH',
    quota: 'QUOTA_EXCEEDED',
    unavailable: 'UNAVAILABLE',
    internal: 'INTERNAL',
    auth: 'THIRD_PARTY_AUTH_ERROR',
  };
  if (m[1] === 'slow') return { kind: 'slow', delayMs: Number(m[2] ?? 1000) };
  const code = byName[m[1]];
  if (!code) return { kind: 'ok' };
  return code === 'QUOTA_EXCEEDED'
    ? { kind: 'error', code, retryAfterSeconds: m[2] ? Number(m[2]) : retryAfterSeconds }
    : { kind: 'error', code };
}

/** The body of a Google API error, with the FCM error code where FCM gives one. */
export function googleErrorBody(
  httpStatus: number,
  status: string,
  message: string,
  fcmCode?: FcmErrorCode,
  fieldViolations?: Array<{ field: string; description: string }>,
): string {
  const details: unknown[] = [];
  if (fcmCode) {
    details.push({
      '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError',
      errorCode: fcmCode,
    });
  }
  if (fieldViolations) {
    details.push({ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations });
  }
  return JSON.stringify({ error: { code: httpStatus, message, status, details } });
}
