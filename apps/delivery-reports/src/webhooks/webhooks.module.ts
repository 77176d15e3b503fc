import { Module, type DynamicModule } from '@nestjs/common';
import type { BaseEnv, ServiceConfig } from '@app/config';
import { RetryPolicy } from '@app/dispatch';
import { WebhookDeliverer } from './webhook-deliverer';
import { WebhookRetries } from './webhook-retries';
import { WebhookTargets } from './webhook-targets';
import { WebhookOutcomesConsumer, WebhookRetryConsumer, webhooksActive } from './webhooks.consumer';
import type { WebhooksEnv } from './webhooks-env.schema';
import { reportWebhookState } from './webhooks.metrics';

/**
 * Outcome webhooks: mount with `WebhooksModule.forRoot(config)` and run its consumer groups with
 * `webhookGroups(config)` in the service's `platformImports`. The webhooks' secrets are read
 * when the module is built (an unreadable one stops the start).
 */
@Module({})
export class WebhooksModule {
  static forRoot(config: ServiceConfig<WebhooksEnv & BaseEnv>): DynamicModule {
    const env = config.env;
    const apps = config.apps;
    const maxAgeMs = env.WEBHOOK_MAX_AGE_SECONDS * 1000;
    // Off, or no app has a webhook: nothing runs, no secret is read.
    if (!webhooksActive(config)) return { module: WebhooksModule };
    return {
      module: WebhooksModule,
      controllers: [WebhookOutcomesConsumer, WebhookRetryConsumer],
      providers: [
        {
          provide: WebhookTargets,
          useFactory: () =>
            new WebhookTargets(apps, {
              maxInFlight: env.WEBHOOK_MAX_IN_FLIGHT,
              retryPolicy: new RetryPolicy({
                baseDelayMs: env.WEBHOOK_RETRY_BASE_MS,
                maxDelayMs: env.WEBHOOK_RETRY_MAX_MS,
              }),
            }),
        },
        {
          provide: WebhookDeliverer,
          useFactory: () =>
            new WebhookDeliverer({
              handoffMs: env.WEBHOOK_HANDOFF_MS,
              maxAgeMs,
              maxParkMs: env.WEBHOOK_RETRY_MAX_MS,
              apps,
            }),
        },
        {
          provide: WebhookRetries,
          useFactory: (targets: WebhookTargets, deliverer: WebhookDeliverer) => {
            const retries = new WebhookRetries(targets, deliverer, {
              maxAgeMs,
              group: env.WEBHOOK_GROUP_ID,
              apps,
            });
            reportWebhookState({
              backlog: () => retries.backlog(),
              paused: () =>
                targets.all().map((t) => ({
                  app: t.appId,
                  webhook: String(t.index),
                  paused: t.gate.pausedUntilMs > Date.now(),
                })),
            });
            return retries;
          },
          inject: [WebhookTargets, WebhookDeliverer],
        },
      ],
    };
  }
}
