import type { WebhookDelivery } from '@app/contracts';
import { parseRetryAfter } from '@app/dispatch';
import { EVENT_OF_STATUS } from './webhook-events';
import { SIGNATURE_HEADER } from './webhook-signature';
import type { WebhookTarget } from './webhook-targets';

export const DELIVERY_ID_HEADER = 'x-push-delivery-id';
export const ATTEMPT_HEADER = 'x-push-attempt';
const USER_AGENT = 'offline-push-webhooks/1';

/** How one POST ended (`result` is the metrics label). */
export type AttemptResult =
  | { ok: true; result: '2xx'; status: number }
  | {
      ok: false;
      result: '3xx' | '4xx' | '429' | '5xx' | 'timeout' | 'network';
      /** For `lastError` and logs: a status or an error code, never a body or a URL. */
      error: string;
      retryAfterMs?: number;
    };

/** The body POSTed: `{ deliveryId, appId, outcomes }`, each outcome with its webhook `event`. */
export function webhookBody(d: WebhookDelivery): string {
  return JSON.stringify({
    deliveryId: d.deliveryId,
    appId: d.appId,
    outcomes: d.outcomes.map((o) => ({ event: EVENT_OF_STATUS[o.status], ...o })),
  });
}

/**
 * A receiver's answer: any 2xx acknowledges the delivery; anything else is retried (redirects are
 * not followed). A Retry-After (seconds or an HTTP date) on a 429 or 503 is honoured.
 */
export function classifyAnswer(
  status: number,
  retryAfter: string | null,
  now = Date.now(),
): AttemptResult {
  if (status >= 200 && status < 300) return { ok: true, result: '2xx', status };
  const retryAfterMs =
    status === 429 || status === 503 ? parseRetryAfter(retryAfter, now) : undefined;
  const result = status === 429 ? '429' : status >= 500 ? '5xx' : status >= 400 ? '4xx' : '3xx';
  return { ok: false, result, error: `HTTP ${status}`, retryAfterMs };
}

/** A failed fetch: our own timeout, else the network error's code (ECONNREFUSED, ...). */
function classifyError(e: unknown, timedOut: boolean, timeoutMs: number): AttemptResult {
  if (timedOut) return { ok: false, result: 'timeout', error: `no answer within ${timeoutMs} ms` };
  const err = e as { name?: string; cause?: { code?: string; name?: string } };
  const code = err.cause?.code ?? err.cause?.name ?? err.name ?? 'error';
  return { ok: false, result: 'network', error: String(code).slice(0, 64) };
}

/**
 * One signed POST of a delivery, abandoned (aborted) after the webhook's `timeoutMs` or when
 * `stop` aborts. Never throws. The response body is not read.
 */
export async function postWebhook(
  target: WebhookTarget,
  delivery: WebhookDelivery,
  attempt: number,
  stop?: AbortSignal,
): Promise<AttemptResult> {
  const body = webhookBody(delivery);
  const timeout = AbortSignal.timeout(target.timeoutMs);
  const signal = stop ? AbortSignal.any([timeout, stop]) : timeout;
  try {
    const res = await fetch(target.url, {
      method: 'POST',
      body,
      redirect: 'manual',
      signal,
      headers: {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        [SIGNATURE_HEADER]: target.sign(body, Math.floor(Date.now() / 1000)),
        [DELIVERY_ID_HEADER]: delivery.deliveryId,
        [ATTEMPT_HEADER]: String(attempt),
      },
    });
    await res.body?.cancel().catch(() => undefined);
    return classifyAnswer(res.status, res.headers.get('retry-after'));
  } catch (e) {
    return classifyError(e, timeout.aborted, target.timeoutMs);
  }
}
