import { ImMessageSentSchema, type ImMessageSent } from '@app/contracts';
import { ValidationProblem } from '@app/http';

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
 * `POST /v1/apps/{appId}/messages`: the body is an `im.message.sent.v1` event; its `appId` may be
 * left out (the path's is taken) and, given, must be the path's. Unknown fields are refused.
 */
export function parseMessageBody(pathAppId: string, body: unknown): ImMessageSent {
  if (!isPlainObject(body)) {
    throw new ValidationProblem([{ field: '(body)', message: 'a JSON object' }]);
  }
  if (body.appId !== undefined && body.appId !== pathAppId) {
    throw new ValidationProblem([
      { field: 'appId', message: `must be ${pathAppId}, the app of the path (or left out)` },
    ]);
  }
  const input = body.appId === undefined ? { ...body, appId: pathAppId } : body;
  const result = ImMessageSentSchema.safeParse(input);
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
