import { TOPICS, type ImMessageSent, type PushIntent } from '@app/contracts';
import { outbound, type EventProducer, type OutboundRecord } from '@app/kafka';
import type { RecordContext } from '@app/observability';

/**
 * Buffers intents and produces them in chunks, a few chunks in flight at once, so that a large
 * group streams out in bounded memory (about chunk × inFlight intents) and small messages of one
 * batch share produce calls.
 */
export class IntentWriter {
  private buffer: OutboundRecord[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failure: Error | undefined;
  written = 0;

  constructor(
    private readonly producer: EventProducer,
    private readonly chunk: number,
    private readonly maxInFlight = 4,
  ) {}

  /** The intent of one recipient; its message carries no recipient list (it may be 100,000 long). */
  async add(
    m: ImMessageSent,
    userId: string,
    fanoutAt: string,
    context: RecordContext,
  ): Promise<void> {
    const message: ImMessageSent = {
      ...m,
      recipients: m.conversation.type === 'c2c' ? [userId] : null,
    };
    const intent: PushIntent = { appId: m.appId, userId, message, fanoutAt };
    this.buffer.push(outbound(TOPICS.pushIntent, intent, { context }));
    if (this.buffer.length >= this.chunk) await this.flushChunk();
  }

  private async flushChunk(): Promise<void> {
    this.throwIfFailed();
    const records = this.buffer;
    this.buffer = [];
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
