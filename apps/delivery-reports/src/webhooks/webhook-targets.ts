import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigException, type AppsRegistry } from '@app/config';
import type { OutcomeStatus, WebhookDelivery } from '@app/contracts';
import { RetryPolicy } from '@app/dispatch';
import { EndpointGate } from './endpoint-gate';
import { EVENT_OF_STATUS } from './webhook-events';
import { signWebhook } from './webhook-signature';

/** A signing secret shorter than this is refused at boot (128 bits). */
export const MIN_SECRET_BYTES = 16;
const MAX_SECRET_BYTES = 4096;

/** First 16 hex digits of the SHA-256 of a webhook URL: names the webhook in keys and records. */
export const urlHashOf = (url: string): string =>
  createHash('sha256').update(url, 'utf8').digest('hex').slice(0, 16);

/** One configured webhook of one app, ready to send to. Its secret is reachable only by `sign`. */
export interface WebhookTarget {
  readonly appId: string;
  readonly index: number;
  readonly url: string;
  readonly urlHash: string;
  readonly statuses: ReadonlySet<OutcomeStatus>;
  readonly batchMax: number;
  readonly timeoutMs: number;
  readonly gate: EndpointGate;
  /** The `X-Push-Signature` value for a body at `t` (unix seconds). */
  sign(body: string, t: number): string;
}

export interface TargetSettings {
  maxInFlight: number;
  retryPolicy: RetryPolicy;
}

/** Reads a secret file: trimmed of surrounding white space, 16–4096 bytes. Never logs it. */
function readSecret(appId: string, index: number, path: string): Buffer {
  const where = `PUSH_APPS_FILE apps.${appId}.webhooks.${index}.secretFile`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigException([
      `${where}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
    ]);
  }
  const secret = Buffer.from(text.trim(), 'utf8');
  if (secret.length < MIN_SECRET_BYTES || secret.length > MAX_SECRET_BYTES) {
    throw new ConfigException([
      `${where}: ${path} must hold ${MIN_SECRET_BYTES}–${MAX_SECRET_BYTES} bytes (has ${secret.length})`,
    ]);
  }
  return secret;
}

/**
 * The webhooks of every app in the apps file, with their secrets read once at boot (an unreadable
 * or too short secret stops the start, naming the app and the file, never the content).
 */
export class WebhookTargets {
  private readonly byApp = new Map<string, WebhookTarget[]>();

  constructor(apps: AppsRegistry, settings: TargetSettings) {
    for (const app of apps.all()) {
      const targets = (app.webhooks ?? []).map((hook, index): WebhookTarget => {
        const secret = readSecret(app.id, index, hook.secretFile);
        const statuses = new Set(
          (Object.keys(EVENT_OF_STATUS) as OutcomeStatus[]).filter((s) =>
            hook.events.includes(EVENT_OF_STATUS[s]),
          ),
        );
        return {
          appId: app.id,
          index,
          url: hook.url,
          urlHash: urlHashOf(hook.url),
          statuses,
          batchMax: hook.batchMax,
          timeoutMs: hook.timeoutMs,
          gate: new EndpointGate(settings.maxInFlight, settings.retryPolicy),
          sign: (body, t) => signWebhook(secret, body, t),
        };
      });
      if (targets.length > 0) this.byApp.set(app.id, targets);
    }
  }

  /** The app's webhooks (none for an app without, or unknown). */
  of(appId: string): readonly WebhookTarget[] {
    return this.byApp.get(appId) ?? [];
  }

  all(): WebhookTarget[] {
    return [...this.byApp.values()].flat();
  }

  /** The webhook a queued delivery was for: by URL hash (the list may have been reordered since). */
  forDelivery(d: Pick<WebhookDelivery, 'appId' | 'webhook'>): WebhookTarget | undefined {
    const targets = this.of(d.appId);
    const hinted = targets[d.webhook.index];
    if (hinted?.urlHash === d.webhook.urlHash) return hinted;
    return targets.find((t) => t.urlHash === d.webhook.urlHash);
  }
}
