/** Checks on a `messages:send` body as FCM makes them; a problem names the field like Google does. */
export interface MessageProblem {
  message: string;
  field: string;
  aboutToken: boolean;
}

const TOP_LEVEL = new Set([
  'name',
  'data',
  'notification',
  'android',
  'webpush',
  'apns',
  'fcm_options',
  'token',
  'topic',
  'condition',
]);

/** FCM's limit on what a message carries to the device (data plus notification). */
export const MAX_PAYLOAD_BYTES = 4096;

const TOKEN_FORMAT = /^[A-Za-z0-9_:-]{8,4096}$/;

export function checkSendBody(body: unknown): MessageProblem | undefined {
  if (typeof body !== 'object' || body === null || !('message' in body)) {
    return {
      message: 'Invalid JSON payload: "message" is required',
      field: 'message',
      aboutToken: false,
    };
  }
  for (const k of Object.keys(body)) {
    if (k !== 'message' && k !== 'validate_only') return unknownField(k, '(root)');
  }
  const msg = body.message;
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
    return { message: 'message must be an object', field: 'message', aboutToken: false };
  }
  const m = msg as Record<string, unknown>;
  for (const k of Object.keys(m)) if (!TOP_LEVEL.has(k)) return unknownField(k, 'message');
  const targets = ['token', 'topic', 'condition'].filter((k) => m[k] !== undefined);
  if (targets.length !== 1) {
    return {
      message: 'Exactly one of token, topic or condition must be set',
      field: 'message',
      aboutToken: false,
    };
  }
  if (m.token !== undefined && (typeof m.token !== 'string' || !TOKEN_FORMAT.test(m.token))) {
    return {
      message: 'The registration token is not a valid FCM registration token',
      field: 'message.token',
      aboutToken: true,
    };
  }
  const data = checkStringMap(m.data, 'message.data');
  if (data) return data;
  if (m.android !== undefined) {
    const a = m.android as Record<string, unknown>;
    if (typeof a !== 'object' || a === null) {
      return { message: 'android must be an object', field: 'message.android', aboutToken: false };
    }
    if (
      a.priority !== undefined &&
      !(typeof a.priority === 'string' && ['normal', 'high', 'NORMAL', 'HIGH'].includes(a.priority))
    ) {
      return invalidValue('message.android.priority', a.priority);
    }
    if (a.ttl !== undefined && !(typeof a.ttl === 'string' && /^\d+(\.\d{1,9})?s$/.test(a.ttl))) {
      return invalidValue('message.android.ttl', a.ttl);
    }
    const adata = checkStringMap(a.data, 'message.android.data');
    if (adata) return adata;
  }
  const web = checkWebpush(m.webpush);
  if (web) return web;
  const webpush = m.webpush as { data?: unknown; notification?: unknown } | undefined;
  const size = Buffer.byteLength(
    JSON.stringify([
      m.data ?? null,
      m.notification ?? null,
      (m.android as { data?: unknown; notification?: unknown } | undefined)?.data ?? null,
      (m.android as { notification?: unknown } | undefined)?.notification ?? null,
      ...(webpush ? [webpush.data ?? null, webpush.notification ?? null] : []),
    ]),
  );
  if (size > MAX_PAYLOAD_BYTES) {
    return {
      message: `Message is too big: ${size} bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte limit`,
      field: 'message',
      aboutToken: false,
    };
  }
  return undefined;
}

/** `webpush`: an object whose `headers` and `data` are string maps, `fcm_options.link` https. */
function checkWebpush(w: unknown): MessageProblem | undefined {
  if (w === undefined) return undefined;
  if (typeof w !== 'object' || w === null || Array.isArray(w)) {
    return { message: 'webpush must be an object', field: 'message.webpush', aboutToken: false };
  }
  const web = w as Record<string, unknown>;
  const problem =
    checkStringMap(web.headers, 'message.webpush.headers') ??
    checkStringMap(web.data, 'message.webpush.data');
  if (problem) return problem;
  const link = (web.fcm_options as { link?: unknown } | undefined)?.link;
  if (link !== undefined && !(typeof link === 'string' && link.startsWith('https://'))) {
    return invalidValue('message.webpush.fcm_options.link', link);
  }
  return undefined;
}

function unknownField(name: string, at: string): MessageProblem {
  return {
    message: `Invalid JSON payload received. Unknown name "${name}" at '${at}': Cannot find field.`,
    field: at === '(root)' ? name : `${at}.${name}`,
    aboutToken: false,
  };
}

function invalidValue(field: string, value: unknown): MessageProblem {
  return {
    message: `Invalid value at '${field}' (${JSON.stringify(value)})`,
    field,
    aboutToken: false,
  };
}

function checkStringMap(v: unknown, field: string): MessageProblem | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return invalidValue(field, v);
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') return invalidValue(`${field}[${k}]`, x);
  }
  return undefined;
}
