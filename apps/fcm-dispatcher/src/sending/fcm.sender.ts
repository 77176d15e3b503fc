import { Logger } from '@nestjs/common';
import type { FcmRequest } from '@app/contracts';
import { dispatchMetrics, Semaphore, type SendResult } from '@app/dispatch';
import type { BatchResponse, Message } from 'firebase-admin/messaging';
import type { FcmApps, FcmTenant } from '../firebase/fcm-apps';
import { fcmMetrics } from '../fcm.metrics';
import type { RetryAfterTracker } from '../firebase/retry-after.tracker';
import { classifyFcmError, type FirebaseErrorLike } from './fcm-error.classifier';
import { planBatches, type AppBatch } from './fcm-batches.util';
import { toAdminMessage } from './fcm-message.util';
import { SendTimeoutError, withSendDeadline } from './send-deadline';
import { startProviderSpans } from '@app/observability';

export interface FcmSenderOptions {
  /** Messages per `sendEach` (≤ 500). */
  batchSize: number;
  /** `sendEach` calls in flight at once, across every partition this instance works on. */
  batchesInFlight: number;
  sendTimeoutMs: number;
  quotaMinDelayMs: number;
}

/**
 * The FCM half of the dispatcher: one `SendResult` per request, in order. Requests are grouped
 * per app into `sendEach` calls of up to `batchSize`; at most `batchesInFlight` calls run at once
 * (one semaphore for the whole process, since partitions are handled concurrently); every call is
 * bounded by `sendTimeoutMs`, so a stuck connection cannot hold a partition. The deadline aborts
 * the call's HTTP requests still open (`withSendDeadline`), rather than racing them and leaving
 * them running on their sockets after the slot is freed: messages answered in time keep their
 * answer, the aborted ones are retried.
 */
export class FcmSender {
  private readonly logger = new Logger(FcmSender.name);
  private readonly slots: Semaphore;

  constructor(
    private readonly apps: FcmApps,
    private readonly retryAfter: RetryAfterTracker,
    private readonly opts: FcmSenderOptions,
  ) {
    this.slots = new Semaphore(opts.batchesInFlight);
  }

  send = async (requests: FcmRequest[]): Promise<SendResult[]> => {
    const results = new Array<SendResult>(requests.length);
    const batches = planBatches(requests, this.opts.batchSize);
    await Promise.all(batches.map((b) => this.slots.run(() => this.sendBatch(b, results))));
    return results;
  };

  private async sendBatch(batch: AppBatch<FcmRequest>, results: SendResult[]): Promise<void> {
    const tenant = this.apps.get(batch.appId);
    if (!tenant) {
      failUnconfigured(batch, results);
      return;
    }
    const now = Date.now();
    const messages = batch.items.map((r) => toAdminMessage(r, now));
    fcmMetrics.sendEachSize.observe({ app: batch.appId }, messages.length);
    // Tracing (off unless configured): an `fcm send` span per message, child of its record's span.
    const spans = startProviderSpans('fcm send', batch.items, {
      'push.provider': 'fcm',
      'push.app_id': batch.appId,
      'fcm.send_each.size': messages.length,
    });
    const { response, failure } = await this.sendEach(batch.appId, tenant, messages);
    countBrokenSession(batch.appId, response, failure);
    const alarms = this.settle(batch, tenant, { response, failure }, results);
    batch.indexes.forEach((idx, k) =>
      spans?.end(k, results[idx], {
        'push.job_id': batch.items[k].jobId,
        'fcm.error_code': response ? response.responses[k]?.error?.code : failure?.code,
      }),
    );
    // One line per call, not per message: a wrong service account fails every message at once.
    for (const [reason, count] of alarms) {
      this.logger.error({ msg: 'FCM credentials problem', appId: batch.appId, reason, count });
    }
  }

  /** One `sendEach` call under the deadline: its response, or why the call failed as a whole. */
  private async sendEach(
    appId: string,
    tenant: FcmTenant,
    messages: Message[],
  ): Promise<SendEachOutcome> {
    dispatchMetrics.inFlight.inc({ provider: 'fcm' }, messages.length);
    const end = dispatchMetrics.sendSeconds.startTimer({ provider: 'fcm' });
    let response: BatchResponse | undefined;
    try {
      response = await withSendDeadline(
        () => tenant.messaging.sendEach(messages),
        this.opts.sendTimeoutMs,
        'FCM sendEach',
        { onAbort: (open) => this.onAbort(appId, messages.length, open) },
      );
      return { response };
    } catch (e) {
      // Nothing is known about any message of the call: each is retried.
      const err = e as Error & { code?: string };
      this.logger.warn({
        msg: 'sendEach failed as a whole',
        appId,
        size: messages.length,
        err: err.message,
      });
      return {
        failure: {
          code:
            e instanceof SendTimeoutError
              ? 'app/network-timeout'
              : (err.code ?? 'dispatcher/send-failed'),
          message: err.message,
        },
      };
    } finally {
      dispatchMetrics.inFlight.dec({ provider: 'fcm' }, messages.length);
      end({ status: response ? 'settled' : 'failed' });
    }
  }

  private onAbort(appId: string, size: number, open: number): void {
    fcmMetrics.requestsAborted.inc({ app: appId }, open);
    // The call's HTTP/2 session (or sockets) is destroyed with its requests.
    if (open > 0) {
      dispatchMetrics.reconnects.inc({ provider: 'fcm', app: appId, cause: 'send_timeout' });
    }
    this.logger.warn({
      msg: 'sendEach past its deadline: aborting its open requests',
      appId,
      size,
      open,
      timeoutMs: this.opts.sendTimeoutMs,
    });
  }

  /** Each message's result from the call's outcome; returns the auth alarms counted per reason. */
  private settle(
    batch: AppBatch<FcmRequest>,
    tenant: FcmTenant,
    { response, failure }: SendEachOutcome,
    results: SendResult[],
  ): Map<string, number> {
    const alarms = new Map<string, number>();
    batch.indexes.forEach((idx, k) => {
      const r = response?.responses[k];
      if (r?.success) {
        results[idx] = { kind: 'delivered', providerId: r.messageId };
        return;
      }
      const c = classifyFcmError(r?.error ?? failure ?? { code: 'dispatcher/no-response' }, {
        retryAfterMs: this.retryAfter.retryAfterMs(tenant.projectId),
        quotaMinDelayMs: this.opts.quotaMinDelayMs,
      });
      if (c.authAlarm) {
        dispatchMetrics.authFailures.inc({
          provider: 'fcm',
          app: batch.appId,
          reason: c.authAlarm,
        });
        alarms.set(c.authAlarm, (alarms.get(c.authAlarm) ?? 0) + 1);
      }
      results[idx] = c.result;
    });
    return alarms;
  }
}

/** What one `sendEach` call gave: its response, or the error that failed it as a whole. */
interface SendEachOutcome {
  response?: BatchResponse;
  failure?: FirebaseErrorLike;
}

function failUnconfigured(batch: AppBatch<FcmRequest>, results: SendResult[]): void {
  for (const i of batch.indexes) {
    results[i] = {
      kind: 'failed',
      code: 'APP_NOT_CONFIGURED',
      message: `app ${batch.appId} has no fcm section in the apps file`,
    };
  }
}

/** firebase-admin opens one session per call: a network error means it broke (counted once). */
function countBrokenSession(
  appId: string,
  response: BatchResponse | undefined,
  failure: FirebaseErrorLike | undefined,
): void {
  if (
    (failure?.code ?? '').startsWith('app/network-error') ||
    response?.responses.some((r) => r.error?.code === 'app/network-error')
  ) {
    dispatchMetrics.reconnects.inc({ provider: 'fcm', app: appId, cause: 'transport' });
  }
}
