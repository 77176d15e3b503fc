/** How the fake answers one request. */
export type FakeApnsRule =
  | { kind: 'ok' }
  /** An APNs error answer: `{ reason, timestamp? }` body; `retryAfterSeconds` sets `retry-after`. */
  | {
      kind: 'error';
      status: number;
      reason: string;
      timestamp?: number;
      retryAfterSeconds?: number;
    }
  /** Wait, then answer as `then` (default ok). */
  | { kind: 'slow'; delayMs: number; then?: FakeApnsRule }
  /** Reset the stream (RST_STREAM INTERNAL_ERROR) without an answer. */
  | { kind: 'reset' }
  /**
   * Send GOAWAY on the session (refusing this stream) and close it: 50 ms later, streams still
   * open or not (by default); `graceful` as Apple does it: streams up to the GOAWAY's last stream
   * id are still answered, later ones are refused (REFUSED_STREAM) without being processed, and
   * the session closes once the answered ones are done.
   */
  | { kind: 'goaway'; graceful?: boolean }
  /** Never answer; the stream stays open until the client gives up. */
  | { kind: 'silent' }
  /** Answer the n-th request for the token with `steps[n]` (the last step repeats). */
  | { kind: 'sequence'; steps: FakeApnsRule[] };

export type ApnsEnv = 'production' | 'sandbox';

/** A rule for both environments, or one per environment (unlisted: `ok`). */
export type FakeApnsTokenRule = FakeApnsRule | Partial<Record<ApnsEnv, FakeApnsRule>>;

export const isPerEnv = (r: FakeApnsTokenRule): r is Partial<Record<ApnsEnv, FakeApnsRule>> =>
  !('kind' in r);

/** What the fake received (only requests that reached rule evaluation, i.e. passed the checks). */
export interface FakeApnsReceived {
  token: string;
  environment: ApnsEnv;
  apnsId: string | undefined;
  topic: string;
  pushType: string;
  priority: string | undefined;
  collapseId: string | undefined;
  expiration: string | undefined;
  payload: Record<string, unknown>;
  /** The answer status given (0 for reset/goaway/silent). */
  status: number;
  at: number;
}
