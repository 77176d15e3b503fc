import { BaseEnvSchema } from '@app/config';
import { z } from 'zod';

export const RegistryEnvSchema = BaseEnvSchema.extend({
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
});
export type RegistryEnv = z.infer<typeof RegistryEnvSchema>;
