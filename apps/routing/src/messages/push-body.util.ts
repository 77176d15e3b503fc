import {
  MAX_SEND_AHEAD_SECONDS,
  PushTaskRequestSchema,
  type PushTaskRequest,
} from '@app/contracts';
import { ValidationProblem } from '@app/http';
import { unknownFields } from './message-body.util';

/**
 * `POST /v1/apps/{appId}/pushes`: the body against `PushTaskRequestSchema`, unknown fields refused
 * (also inside `offlinePush`), `options.sendAt` at most 30 days ahead.
 */
export function parsePushBody(body: unknown, now: Date): PushTaskRequest {
  const result = PushTaskRequestSchema.safeParse(body);
  if (!result.success) {
    throw new ValidationProblem(
      result.error.issues.flatMap((i) =>
        // A strict object's unknown keys: each named as its own field.
        i.code === 'unrecognized_keys'
          ? i.keys.map((k) => ({ field: [...i.path, k].join('.'), message: 'unknown field' }))
          : [{ field: i.path.length ? i.path.join('.') : '(body)', message: i.message }],
      ),
    );
  }
  const unknown = unknownFields(body, result.data);
  if (unknown.length) {
    throw new ValidationProblem(unknown.map((field) => ({ field, message: 'unknown field' })));
  }
  const sendAt = result.data.options.sendAt;
  if (sendAt && Date.parse(sendAt) > now.getTime() + MAX_SEND_AHEAD_SECONDS * 1000) {
    throw new ValidationProblem([
      { field: 'options.sendAt', message: `at most ${MAX_SEND_AHEAD_SECONDS / 86400} days ahead` },
    ]);
  }
  return result.data;
}
