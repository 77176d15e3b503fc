import type { ConsumedRecord, DeferredRest } from '@app/kafka';
import type { DispatchRequest } from './dispatch.types';

/**
 * Splits a retry-topic batch at the first record that is not due yet: the records before it are
 * handled now; from it on, the consumer commits nothing, pauses the partition and reads again at
 * `notBefore` (see `HandlerResult.deferFrom` in `@app/kafka`). Nothing waits inside the handler,
 * so other partitions keep flowing, heartbeats continue, and a crash loses nothing.
 * Order within a partition is kept; a later record that is due sooner waits for the head, which
 * the backoff cap bounds.
 */
export function splitDue<R extends DispatchRequest>(
  records: ConsumedRecord<R>[],
  now = Date.now(),
  /** Records due within this many ms are handled now rather than parked for so short a wait. */
  slackMs = 20,
): { due: ConsumedRecord<R>[]; deferFrom?: DeferredRest } {
  for (let i = 0; i < records.length; i++) {
    const nb = records[i].value?.notBefore;
    const at = nb ? Date.parse(nb) : NaN;
    if (!Number.isNaN(at) && at > now + slackMs) {
      return { due: records.slice(0, i), deferFrom: { offset: records[i].offset, until: at } };
    }
  }
  return { due: records };
}
