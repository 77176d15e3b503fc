import { ImMessageSentSchema, type ImMessageSent } from '@app/contracts';
import { ValidationProblem } from '@app/http';
import type { z } from 'zod';

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The fields of `input` that the schema dropped from `output`: unknown fields. The contract
 * ignores them (a newer producer may add fields), but the HTTP API refuses them like the other
 * APIs do, so that a misspelt `offlinePush.apns.sonud` is a 400, not a silent default. Elements
 * of the media types keep unknown fields on purpose (they carry Tencent's element fields), so
 * nothing there is reported.
 */
export function unknownFields(input: unknown, output: unknown, path: string[] = []): string[] {
  if (Array.isArray(input) && Array.isArray(output)) {
    return input.flatMap((v, i) => unknownFields(v, output[i], [...path, String(i)]));
  }
  if (!isPlainObject(input) || !isPlainObject(output)) return [];
  return Object.keys(input).flatMap((k) =>
    Object.hasOwn(output, k)
      ? unknownFields(input[k], output[k], [...path, k])
      : [[...path, k].join('.')],
  );
}

/**
 * A body completed with the path's ids (which the body must not contradict) and parsed strictly:
 * schema errors and unknown fields are 400s naming each field.
 */
export function parseStrict<T>(
  schema: z.ZodType<T>,
  body: unknown,
  fromPath: Record<string, string>,
  defaults: Record<string, unknown> = {},
): T {
  if (!isPlainObject(body)) {
    throw new ValidationProblem([{ field: '(body)', message: 'a JSON object' }]);
  }
  const clashes = Object.entries(fromPath).filter(
    ([k, v]) => body[k] !== undefined && body[k] !== v,
  );
  if (clashes.length) {
    throw new ValidationProblem(
      clashes.map(([field, v]) => ({ field, message: `must be ${v}, the path's (or left out)` })),
    );
  }
  const input = { ...defaults, ...body, ...fromPath };
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new ValidationProblem(
      result.error.issues.map((i) => ({
        field: i.path.length ? i.path.join('.') : '(body)',
        message: i.message,
      })),
    );
  }
  const unknown = unknownFields(input, result.data);
  if (unknown.length) {
    throw new ValidationProblem(unknown.map((field) => ({ field, message: 'unknown field' })));
  }
  return result.data;
}

/**
 * `POST /v1/apps/{appId}/messages`: the body is an `im.message.sent.v1` event; its `appId` may be
 * left out (the path's is taken) and, given, must be the path's. Unknown fields are refused.
 */
export const parseMessageBody = (pathAppId: string, body: unknown): ImMessageSent =>
  parseStrict(ImMessageSentSchema, body, { appId: pathAppId });
