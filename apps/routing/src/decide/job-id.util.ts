import { createHash } from 'node:crypto';

/**
 * The idempotency key of one (message, device) pair: the same on every retry and every replay,
 * shaped like a UUID (the first 128 bits of a SHA-256 over app, message, user and device).
 */
export function jobIdFor(
  appId: string,
  messageId: string,
  userId: string,
  deviceId: string | null,
): string {
  const h = createHash('sha256')
    .update(`${appId}\n${messageId}\n${userId}\n${deviceId ?? ''}`)
    .digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** A short digest of a message id for the per-user memory of recent pushes. */
export const messageDigest = (messageId: string): string =>
  createHash('sha256').update(messageId).digest('base64url').slice(0, 16);
