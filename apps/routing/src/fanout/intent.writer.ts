import {
  TOPICS,
  type ImMessageRecalled,
  type ImMessageSent,
  type PushIntent,
  type RecallIntent,
} from '@app/contracts';
import { outbound, type EventProducer, type OutboundRecord } from '@app/kafka';
import type { RecordContext } from '@app/observability';

/** An intent's fields around its message, in JSON. */
const INTENT_OVERHEAD_BYTES = 200;
/** A recall intent in JSON, at most (ids of 128 and 256 characters, two dates). */
const RECALL_INTENT_BYTES = 900;

/**
 * Buffers intents and produces them in chunks, so that a large group streams out in bounded
 * memory (about two chunks: one being sent, one being filled) and small messages of one batch
 * share produce calls.
 */
export class IntentWriter {
  private buffer: OutboundRecord[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failure: Error | undefined;
  private bufferBytes = 0;
  private source: ImMessageSent | undefined;
  private stripped: ImMessageSent | undefined;
  private intentBytes = 0;
  written = 0;

  constructor(
    private readonly producer: EventProducer,
    private readonly chunk: number,
    // kafkajs's idempotent producer assigns sequence numbers per request: concurrent sendBatch
    // calls on one producer can reach the broker out of order (OUT_OF_ORDER_SEQUENCE_NUMBER).
    private readonly maxInFlight = 1,
    /**
     * Bytes per chunk (estimated): intents of a large message are serialised one copy each when
     * sent, so a chunk of `chunk` of them is bounded by size too. (The producer splits each send to
     * fit the topic's limit; this bounds memory and how much one failed send repeats.)
     */
    private readonly maxChunkBytes = 512 * 1024,
  ) {}

  /** The intent of one recipient; its message carries no recipient list (it may be 100,000 long). */
  async add(
    m: ImMessageSent,
    userId: string,
    fanoutAt: string,
    context: RecordContext,
  ): Promise<void> {
    if (m !== this.source) {
      // Once per message: a group's recipients share one stripped copy and one size estimate.
      this.source = m;
      this.stripped = { ...m, recipients: null };
      this.intentBytes =
        Buffer.byteLength(JSON.stringify(this.stripped), 'utf8') + INTENT_OVERHEAD_BYTES;
    }
    const message: ImMessageSent =
      m.conversation.type === 'c2c' ? { ...m, recipients: [userId] } : this.stripped!;
    const intent: PushIntent = { appId: m.appId, userId, message, fanoutAt };
    // Built from values that passed their schemas when read (the message, and the recipient from
    // its list or the group's membership, both `IdSchema`) and an ISO date: not validated again
    // per recipient (intent.writer.spec checks the output against push.intent.v1).
    const record = outbound(TOPICS.pushIntent, intent, { context, prevalidated: true });
    await this.enqueue(record, this.intentBytes);
  }

  /** The recall intent of one recipient (small: the recall's ids, no message). */
  async addRecall(
    r: ImMessageRecalled,
    userId: string,
    fanoutAt: string,
    context: RecordContext,
  ): Promise<void> {
    const intent: RecallIntent = {
      kind: 'recall',
      appId: r.appId,
      userId,
      recall: { messageId: r.messageId, conversation: r.conversation, recalledAt: r.recalledAt },
      fanoutAt,
    };
    await this.enqueue(outbound(TOPICS.pushIntent, intent, { context }), RECALL_INTENT_BYTES);
  }

  private async enqueue(record: OutboundRecord, bytes: number): Promise<void> {
    this.buffer.push(record);
    this.bufferBytes += bytes;
    if (this.buffer.length >= this.chunk || this.bufferBytes >= this.maxChunkBytes) {
      await this.flushChunk();
    }
  }

  private async flushChunk(): Promise<void> {
    this.throwIfFailed();
    const records = this.buffer;
    this.buffer = [];
    this.bufferBytes = 0;
    if (records.length === 0) return;
    while (this.inFlight.size >= this.maxInFlight) await Promise.race(this.inFlight);
    this.throwIfFailed();
    const p = this.producer.send(records).then(
      () => {
        this.written += records.length;
      },
      (e: unknown) => {
        this.failure ??= e instanceof Error ? e : new Error(String(e));
      },
    );
    const tracked = p.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  /** Sends what is buffered and waits for every send; throws the first failure. */
  async flush(): Promise<void> {
    await this.flushChunk();
    await Promise.all(this.inFlight);
    this.throwIfFailed();
  }
}
