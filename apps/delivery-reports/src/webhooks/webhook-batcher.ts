import { createHash } from 'node:crypto';
import type { PushOutcome, WebhookDelivery } from '@app/contracts';
import type { ConsumedRecord } from '@app/kafka';
import type { WebhookTarget, WebhookTargets } from './webhook-targets';

/**
 * Outcomes' JSON per delivery at most, whatever `batchMax` says: the body stays far below a
 * megabyte, and so does the delivery on the retry topic (Kafka's default record limit is 1 MiB).
 */
export const MAX_OUTCOME_BYTES_PER_DELIVERY = 512 * 1024;

/** A delivery with the webhook it goes to. */
export interface DeliveryJob {
  target: WebhookTarget;
  delivery: WebhookDelivery;
}

/** A UUID-shaped id from the first 128 bits of a SHA-256. */
function uuidOf(text: string): string {
  const h = createHash('sha256').update(text, 'utf8').digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * The delivery id of chunk `chunk` of a batch's outcomes for one webhook: derived from where the
 * outcomes were read (topic, partition, first and last offset of the batch) and the webhook, so a
 * batch read again after a crash or rebalance with the same bounds gets the same ids.
 */
export function deliveryIdFor(
  source: { topic: string; partition: number; first: string; last: string },
  target: Pick<WebhookTarget, 'appId' | 'urlHash'>,
  chunk: number,
): string {
  const { topic, partition, first, last } = source;
  return uuidOf([topic, partition, first, last, target.appId, target.urlHash, chunk].join('\n'));
}

/** Splits outcomes into chunks of at most `max` outcomes and `maxBytes` of JSON (at least one each). */
export function chunkOutcomes(
  outcomes: PushOutcome[],
  max: number,
  maxBytes = MAX_OUTCOME_BYTES_PER_DELIVERY,
): PushOutcome[][] {
  const chunks: PushOutcome[][] = [];
  let current: PushOutcome[] = [];
  let bytes = 0;
  for (const o of outcomes) {
    const size = Buffer.byteLength(JSON.stringify(o), 'utf8') + 1;
    if (current.length > 0 && (current.length >= max || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(o);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * The deliveries a batch of push.outcome.v1 records makes: for every webhook of every app in the
 * batch, the outcomes whose status it subscribed to, in record order, in chunks of `batchMax`.
 * `group` (WEBHOOK_GROUP_ID) marks them as this deployment's on the retry topic.
 */
export function buildDeliveries(
  records: ConsumedRecord<PushOutcome>[],
  targets: WebhookTargets,
  group: string,
  now = Date.now(),
): DeliveryJob[] {
  if (records.length === 0) return [];
  const matching = new Map<WebhookTarget, PushOutcome[]>();
  for (const rec of records) {
    const o = rec.value;
    if (o === null) continue;
    for (const target of targets.of(o.appId)) {
      if (!target.statuses.has(o.status)) continue;
      const list = matching.get(target);
      if (list) list.push(o);
      else matching.set(target, [o]);
    }
  }
  const source = {
    topic: records[0].topic,
    partition: records[0].partition,
    first: records[0].offset,
    last: records[records.length - 1].offset,
  };
  const at = new Date(now).toISOString();
  const jobs: DeliveryJob[] = [];
  for (const [target, outcomes] of matching) {
    chunkOutcomes(outcomes, target.batchMax).forEach((chunk, i) =>
      jobs.push({
        target,
        delivery: {
          deliveryId: deliveryIdFor(source, target, i),
          appId: target.appId,
          group,
          webhook: { index: target.index, urlHash: target.urlHash },
          outcomes: chunk,
          queuedAt: at,
          attempts: 0,
          notBefore: at,
          lastError: null,
        },
      }),
    );
  }
  return jobs;
}
