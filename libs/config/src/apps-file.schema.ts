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

export const AppConfigSchema = z.object({
  id: z.string().regex(/^[^:\s]{1,128}$/),
  apiKeys: z.array(z.string().regex(/^sha256:[0-9a-f]{64}$/, 'sha256:<64 lowercase hex>')).min(1),
  policy: PolicySchema,
  apns: ApnsAppSchema.optional(),
  fcm: FcmAppSchema.optional(),
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
