import { z } from 'zod';
import { ConfigException } from './config.exception';

/**
 * Validates the environment against a schema whose keys are the variable names. Called once per
 * service at boot; nothing else reads `process.env`.
 */
export function loadEnv<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const raw: Record<string, unknown> = {};
  for (const name of Object.keys(schema.shape)) {
    const value = env[name];
    raw[name] = value === '' ? undefined : value;
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new ConfigException(
      result.error.issues.map((issue) => {
        const name = issue.path.join('.');
        return raw[name] === undefined ? `${name} is required` : `${name}: ${issue.message}`;
      }),
    );
  }
  return result.data;
}

/** `"true"`/`"false"`/`"1"`/`"0"` from an environment variable. */
export const envBoolean = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1');

export const envInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
