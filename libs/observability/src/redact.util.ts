/** A device token as logs may show it: enough to tell two apart, never enough to use. */
export function redactToken(token: string | null | undefined): string {
  if (!token) return '';
  if (token.length <= 12) return '***';
  return `${token.slice(0, 4)}…${token.slice(-4)}`;
}

/** Paths pino removes from every log line. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'token',
  '*.token',
  '*.*.token',
  'apiKey',
  '*.apiKey',
  'password',
  '*.password',
  'privateKey',
  '*.privateKey',
  '*.private_key',
];
