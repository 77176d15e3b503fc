import { z } from 'zod';

const EndpointSchema = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  caFile: z.string().min(1).optional(),
});
export type ProviderEndpoint = z.infer<typeof EndpointSchema>;

const ApnsAppSchema = z
  .object({
    teamId: z
      .string()
      .regex(/^[A-Z0-9]{10}$/, 'a 10-character Apple team id')
      .optional(),
    keyId: z
      .string()
      .regex(/^[A-Z0-9]{10}$/, 'a 10-character key id')
      .optional(),
    keyFile: z.string().min(1).optional(),
    certFile: z.string().min(1).optional(),
    topics: z.array(z.string().min(1)).min(1),
    environments: z
      .array(z.enum(['sandbox', 'production']))
      .min(1)
      .default(['production', 'sandbox']),
    endpoint: EndpointSchema.optional(),
  })
  .superRefine((v, ctx) => {
    const tokenAuth = v.teamId && v.keyId && v.keyFile;
    const certAuth = v.certFile && v.keyFile;
    if (!tokenAuth && !certAuth) {
      ctx.addIssue({
        code: 'custom',
        message:
          'give teamId + keyId + keyFile (token auth) or certFile + keyFile (certificate auth)',
      });
    }
  });

const FcmAppSchema = z.object({
  projectId: z.string().min(1),
  serviceAccountFile: z.string().min(1),
  endpoint: EndpointSchema.optional(),
});

const PolicySchema = z
  .object({
    suppressWhenOnlineElsewhere: z.boolean().default(false),
    offlineAfterDays: z.number().int().min(1).max(365).default(7),
  })
  .default({ suppressWhenOnlineElsewhere: false, offlineAfterDays: 7 });

/**
 * The outcome events a webhook can subscribe to. Each names one `push.outcome.v1` status: `sent` is
 * `delivered`, every other event is the status of the same name.
 */
export const WEBHOOK_EVENTS = [
  'sent',
  'suppressed',
  'invalid_token',
  'rejected',
  'expired',
  'failed',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** Caps on what the apps file can ask of the webhook sender. */
export const WEBHOOK_LIMITS = {
  perApp: 10,
  urlChars: 2048,
  batchMax: 500,
  timeoutMs: { min: 100, max: 30_000 },
} as const;

/** Hosts a webhook may reach over plain `http:` (local development and tests only). */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The problem with a webhook URL, or undefined when it is acceptable. */
export function webhookUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'not a URL';
  }
  if (u.username || u.password) return 'must not carry credentials (sign with secretFile instead)';
  if (u.hash) return 'must not carry a #fragment';
  if (u.protocol === 'https:') return undefined;
  if (u.protocol === 'http:' && LOOPBACK_HOSTS.has(u.hostname)) return undefined;
  return 'must be https:// (http:// only for localhost, 127.0.0.1 or [::1])';
}

const WebhookSchema = z.object({
  url: z
    .string()
    .max(WEBHOOK_LIMITS.urlChars)
    .superRefine((url, ctx) => {
      const problem = webhookUrlProblem(url);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  /** A file holding the signing secret (read at boot by the delivery-reports service). */
  secretFile: z.string().min(1),
  events: z
    .array(z.enum(WEBHOOK_EVENTS))
    .min(1)
    .refine((e) => new Set(e).size === e.length, 'each event at most once')
    .default([...WEBHOOK_EVENTS]),
  /** Outcomes per POST at most. */
  batchMax: z.number().int().min(1).max(WEBHOOK_LIMITS.batchMax).default(100),
  /** One POST attempt is abandoned (aborted) after this long. */
  timeoutMs: z
    .number()
    .int()
    .min(WEBHOOK_LIMITS.timeoutMs.min)
    .max(WEBHOOK_LIMITS.timeoutMs.max)
    .default(10_000),
});
export type WebhookConfig = z.infer<typeof WebhookSchema>;

const WebhooksSchema = z
  .array(WebhookSchema)
  .max(WEBHOOK_LIMITS.perApp)
  .superRefine((hooks, ctx) => {
    const seen = new Set<string>();
    hooks.forEach((h, i) => {
      if (seen.has(h.url)) {
        ctx.addIssue({ code: 'custom', path: [i, 'url'], message: 'duplicate webhook url' });
      }
      seen.add(h.url);
    });
  });

/** A text per locale (BCP 47 tag, or `default`), chosen per device by the locale fallback. */
const LocalizedTextSchema = z
  .record(z.string().min(1).max(35), z.string().min(1).max(256))
  .refine((t) => Object.keys(t).length <= 100, 'at most 100 locales');

/** Texts routing shows in notifications it writes itself. */
const TextsSchema = z.object({
  /** The body that replaces a recalled message's notification (default "This message was recalled"). */
  recalled: LocalizedTextSchema.optional(),
});

/** How a recall reaches the devices that showed the message. */
const RecallSchema = z.object({
  /**
   * `replace`: a notification with the same apns-collapse-id / FCM tag and the recalled text;
   * `silent`: a background push the app uses to remove the notification itself.
   */
  mode: z.enum(['replace', 'silent']).default('replace'),
});

export const AppConfigSchema = z.object({
  id: z.string().regex(/^[^:\s]{1,128}$/),
  apiKeys: z.array(z.string().regex(/^sha256:[0-9a-f]{64}$/, 'sha256:<64 lowercase hex>')).min(1),
  policy: PolicySchema,
  apns: ApnsAppSchema.optional(),
  fcm: FcmAppSchema.optional(),
  /** Outcome webhooks (delivery-reports): batched, signed POSTs of the app's outcomes. */
  webhooks: WebhooksSchema.optional(),
  /** Texts routing writes itself (the recall replacement), per locale. */
  texts: TextsSchema.optional(),
  /** Recall: replace the notification (default) or send a silent push. */
  recall: RecallSchema.optional(),
});
export type AppConfig = z.infer<typeof AppConfigSchema>;

export const AppsFileSchema = z
  .object({ apps: z.array(AppConfigSchema).min(1) })
  .superRefine((v, ctx) => {
    const seen = new Set<string>();
    v.apps.forEach((app, i) => {
      if (seen.has(app.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['apps', i, 'id'],
          message: `duplicate app id ${app.id}`,
        });
      }
      seen.add(app.id);
    });
  });
export type AppsFile = z.infer<typeof AppsFileSchema>;
