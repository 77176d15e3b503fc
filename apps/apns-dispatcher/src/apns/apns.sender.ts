import { Logger } from '@nestjs/common';
import type { AppsRegistry } from '@app/config';
import type { ApnsEnvironment, ApnsRequest } from '@app/contracts';
import { dispatchMetrics, reportInFlight, type SendResult } from '@app/dispatch';
import { redactToken } from '@app/observability';
import { apnsIdFor } from './apns-id.util';
import type { ApnsHttpRequest } from './apns-connection';
import type { ApnsPools } from './apns-pools';
import {
  classifyApnsAnswer,
  type ApnsRawAnswer,
  type ApnsVerdict,
} from './apns-response.classifier';
import { traceProviderCall, traceProviderSend, tracingEnabled } from '@app/observability';

const HEX_TOKEN = /^[0-9a-fA-F]{64,200}$/;
/** Credential errors do not heal in milliseconds: do not hammer Apple while someone fixes them. */
const AUTH_RETRY_FLOOR_MS = 5000;

const SENT_LABELS = { provider: 'apns', status: 'ok' } as const;

const other = (e: ApnsEnvironment): ApnsEnvironment =>
  e === 'production' ? 'sandbox' : 'production';

/** Tracing (off unless configured): what a span of one HTTP/2 request to APNs records. */
const describeAnswer = (a: ApnsRawAnswer) => ({
  attributes: {
    'http.response.status_code': a.sent ? 200 : a.status,
    'apns.reason': a.reason ?? a.error,
  },
  error: a.sent ? undefined : (a.reason ?? a.error ?? `status ${a.status}`),
});

/** A job's APNs request, built once for all its sends (environments, a refreshed token). */
interface PreparedSend {
  apnsId: string;
  http: ApnsHttpRequest;
}

/**
 * The headers and body node-apn 8.1 makes of a Notification (`Notification.headers()` in its
 * order, `compile()` of `rawPayload`), built straight from the request: the payload is serialised
 * once per job, not once per send, and no Notification is allocated.
 */
export function prepareSend(req: ApnsRequest): PreparedSend {
  const apnsId = apnsIdFor(req.jobId);
  const headers: Record<string, string | number> = {};
  if (Number.isInteger(req.priority)) headers['apns-priority'] = req.priority;
  headers['apns-id'] = apnsId;
  if (req.collapseId) headers['apns-collapse-id'] = req.collapseId;
  const expiry = Math.floor(Date.parse(req.expiresAt) / 1000);
  if (expiry >= 0) headers['apns-expiration'] = expiry;
  if (req.topic) headers['apns-topic'] = req.topic;
  if (req.pushType) headers['apns-push-type'] = req.pushType;
  return { apnsId, http: { headers, body: JSON.stringify(req.payload) } };
}

/**
 * Sends APNs requests through the pools and turns each answer into a `SendResult`, with the two
 * follow-ups that need another send: a refreshed provider token after ExpiredProviderToken, and
 * one try in the other environment after BadDeviceToken (sandbox/production mix-ups).
 */
export class ApnsSender {
  private readonly logger = new Logger(ApnsSender.name);

  constructor(
    private readonly pools: ApnsPools,
    private readonly apps: AppsRegistry,
  ) {
    reportInFlight('apns', () => pools.inFlight);
  }

  /** The `SendFn` of the dispatch library: concurrency is bounded by the pools. */
  send = (requests: ApnsRequest[]): Promise<SendResult[]> =>
    Promise.all(
      requests.map((r) =>
        // Tracing: one `apns send` span per request, child of its record's span (tracing off:
        // no span, no attributes allocated per push).
        tracingEnabled()
          ? traceProviderSend(
              'apns send',
              r,
              { 'push.provider': 'apns', 'push.app_id': r.appId, 'push.job_id': r.jobId },
              () => this.sendOne(r),
            )
          : this.sendOne(r),
      ),
    );

  async sendOne(req: ApnsRequest): Promise<SendResult> {
    const cfg = this.apps.get(req.appId)?.apns;
    if (!cfg) {
      return {
        kind: 'failed',
        code: 'NoApnsConfig',
        message: `app ${req.appId} has no APNs settings`,
      };
    }
    if (!cfg.topics.some((t) => req.topic === t || req.topic.startsWith(`${t}.`))) {
      return {
        kind: 'rejected',
        code: 'TopicDisallowed',
        message: `topic ${req.topic} is not one of app ${req.appId}'s topics`,
      };
    }
    if (!HEX_TOKEN.test(req.token)) {
      return {
        kind: 'invalid_token',
        code: 'BadDeviceToken',
        message: 'not a hex APNs device token',
        invalidation: { reason: 'bad_device_token' },
      };
    }
    if (!cfg.environments.includes(req.environment)) {
      return {
        kind: 'failed',
        code: 'EnvironmentNotConfigured',
        message: `app ${req.appId} has no ${req.environment} APNs environment`,
      };
    }

    const prepared = prepareSend(req);
    const first = await this.attempt(req, prepared, req.environment);
    if (first.kind === 'result') return first.result;
    if (first.kind === 'bad_device_token') {
      const alt = other(req.environment);
      if (!cfg.environments.includes(alt)) return this.badToken(first.message);
      const second = await this.attempt(req, prepared, alt);
      if (second.kind === 'bad_device_token') {
        return this.badToken(`BadDeviceToken in both environments`);
      }
      if (second.kind === 'result' && second.result.kind === 'delivered') {
        this.logger.log({
          msg: 'token works in the other environment',
          app: req.appId,
          token: redactToken(req.token),
          environment: alt,
        });
        return {
          ...second.result,
          invalidation: { reason: 'environment_mismatch', environment: alt },
        };
      }
      return this.settle(second);
    }
    return this.settle(first);
  }

  private badToken(message: string): SendResult {
    return {
      kind: 'invalid_token',
      code: 'BadDeviceToken',
      message,
      invalidation: { reason: 'bad_device_token' },
    };
  }

  /** Verdicts that did not resolve to a plain result become a retry (never a token change). */
  private settle(v: ApnsVerdict): SendResult {
    switch (v.kind) {
      case 'result':
        return v.result;
      case 'expired_provider_token':
        return {
          kind: 'retry',
          code: 'ExpiredProviderToken',
          message: 'provider token expired twice in a row',
        };
      case 'auth':
        return {
          kind: 'retry',
          code: v.reason,
          message: `APNs 403 ${v.reason}`,
          retryAfterMs: v.retryAfterMs,
          minDelayMs: AUTH_RETRY_FLOOR_MS,
        };
      case 'bad_device_token':
        return this.badToken(v.message);
    }
  }

  /** One send in one environment; an expired provider token is refreshed by node-apn and sent again once. */
  private async attempt(
    req: ApnsRequest,
    prepared: PreparedSend,
    environment: ApnsEnvironment,
  ): Promise<ApnsVerdict> {
    let v = await this.sendIn(req, prepared, environment);
    if (v.kind === 'expired_provider_token') v = await this.sendIn(req, prepared, environment);
    // A fresh token refused as expired too (clock skew, a revoked key): credentials, not routine.
    if (v.kind === 'expired_provider_token') {
      dispatchMetrics.authFailures.inc({
        provider: 'apns',
        app: req.appId,
        reason: 'ExpiredProviderToken',
      });
    }
    if (v.kind === 'auth') {
      dispatchMetrics.authFailures.inc({ provider: 'apns', app: req.appId, reason: v.reason });
      this.logger.error({
        msg: 'APNs refused our credentials',
        app: req.appId,
        environment,
        reason: v.reason,
      });
    }
    return v;
  }

  private async sendIn(
    req: ApnsRequest,
    { apnsId, http }: PreparedSend,
    environment: ApnsEnvironment,
  ): Promise<ApnsVerdict> {
    const pool = this.pools.get(req.appId, environment);
    if (!pool) {
      return {
        kind: 'result',
        result: {
          kind: 'failed',
          code: 'EnvironmentNotConfigured',
          message: `no ${environment} pool for ${req.appId}`,
        },
      };
    }
    const started = performance.now();
    const answer = await (tracingEnabled()
      ? traceProviderCall(
          'APNs POST /3/device',
          { 'apns.environment': environment, 'apns.id': apnsId, 'apns.topic': req.topic },
          () => pool.send(http, req.token, apnsId),
          describeAnswer,
        )
      : pool.send(http, req.token, apnsId));
    const v = classifyApnsAnswer(answer);
    dispatchMetrics.sendSeconds.observe(
      answer.sent
        ? SENT_LABELS
        : { provider: 'apns', status: String(answer.status ?? 'transport') },
      (performance.now() - started) / 1000,
    );
    if (!answer.sent && answer.status === undefined) {
      this.logger.warn({
        msg: 'APNs send failed in transport',
        app: req.appId,
        environment,
        token: redactToken(req.token),
        err: answer.error,
      });
    }
    return v;
  }
}
