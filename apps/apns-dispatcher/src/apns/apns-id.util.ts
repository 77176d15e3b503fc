import { hash } from 'node:crypto';

/**
 * The `apns-id` of a job: a UUID (version 8, RFC 9562 "custom") made from SHA-256 of the jobId,
 * so every send of one job, retries and redeliveries included, carries the same id and APNs
 * answers and logs can be matched to the job.
 */
export function apnsIdFor(jobId: string): string {
  // One-shot hash: no Hash object per push (Node >= 21.7).
  const b = hash('sha256', jobId, 'buffer').subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x80;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
