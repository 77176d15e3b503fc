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
  /** The app renders its pushes itself (absent: false): FCM messages carry only `data`. */
  dataOnly: z.boolean().optional(),
});

const PolicySchema = z
  .object({
    suppressWhenOnlineElsewhere: z.boolean().default(false),
    offlineAfterDays: z.number().int().min(1).max(365).default(7),
  })
  .default({ suppressWhenOnlineElsewhere: false, offlineAfterDays: 7 });

/**
 * What leaves the platform in a push: `full` (title, text, sender, ext, image) or `id_only` (only
 * the message and conversation ids; the app's notification service extension fetches the content).
 */
export const PrivacyModeSchema = z.enum(['full', 'id_only']);
export type PrivacyMode = z.infer<typeof PrivacyModeSchema>;

/** Caps on the apps file's per-locale texts. */
export const APP_TEXT_LIMITS = { locales: 50, chars: 256 } as const;

/** A locale (`en`, `zh-Hant`, `zh-Hant-TW`, `pt_BR`) or `default`, as in `offlinePush.localized`. */
const TextLocaleSchema = z
  .string()
  .max(35)
  .regex(
    /^(default|[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*)$/,
    'a BCP 47 language tag such as en, zh-Hant or zh-Hant-TW, or default',
  );

const LocalizedTextTableSchema = z
  .record(TextLocaleSchema, z.string().min(1).max(APP_TEXT_LIMITS.chars))
  .refine((t) => Object.keys(t).length <= APP_TEXT_LIMITS.locales, {
    message: `at most ${APP_TEXT_LIMITS.locales} locales`,
  });

/**
 * Neutral texts per locale. A locale (and `default`) not given falls back to the built-in English
 * text (`DEFAULT_APP_TEXTS` and `appText` in `@app/routing-rules`, which pick by device locale).
 */
const AppTextsSchema = z.object({
  newMessage: LocalizedTextTableSchema.optional(),
  recalled: LocalizedTextTableSchema.optional(),
});

/** Defaults of the notifications shown on web and desktop devices (FCM `webpush`). */
const WebAppSchema = z.object({
  icon: z
    .url({ protocol: /^https$/, error: 'an https:// URL' })
    .max(2048)
    .optional(),
  link: z
    .url({ protocol: /^https$/, error: 'an https:// URL' })
    .max(2048)
    .optional(),
});

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
  /** The app's privacy mode (absent: `full`); a user's own `privacy` setting wins over it. */
  privacy: PrivacyModeSchema.optional(),
  /**
   * Neutral texts per locale (fallback zh-Hant-TW → zh-Hant → zh → default → built-in):
   * `newMessage` (hidden previews, id-only), `recalled` (the recall replacement).
   */
  texts: AppTextsSchema.optional(),
  web: WebAppSchema.optional(),
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
