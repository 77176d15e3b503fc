import type { KafkaMessage, Message } from 'kafkajs';
import type { EncodedRecord } from '../event.producer';

const idOf = (topic: string, key: string): string => `${topic}\n${key}`;

/**
 * The last value a transactional group committed per key of the state topics it also reads
 * (decide: `routing.badge-state.v1`, `routing.task-progress.v1`), so that its own record read
 * back is recognised by its bytes and skipped instead of parsed, validated and applied again: its
 * handler's `onCommit` applied that very change already. Only for state subscriptions that declare
 * it (`Subscription.echoesApplied`): their handler must keep memory at least as new as its own
 * committed writes (decide's `seq`). Forgotten on every assignment, with the state it stands for,
 * so a restore applies every record; a record that is not the key's last write (two writes before
 * the first comes back) is applied as usual.
 */
export class OwnWrites {
  private readonly last = new Map<string, Buffer>();

  constructor(private readonly topics: ReadonlySet<string>) {}

  /** After a commit: the values written to the declared topics, by key. */
  remember(records: readonly EncodedRecord[]): void {
    if (this.topics.size === 0) return;
    for (const { topic, message } of records) {
      if (!this.topics.has(topic)) continue;
      const key = keyText(message.key);
      const value = message.value;
      if (key === undefined || value === null || value === undefined) continue;
      this.last.set(idOf(topic, key), typeof value === 'string' ? Buffer.from(value) : value);
    }
  }

  /** True (and forgotten) when the record is its key's last committed write, read back. */
  isEcho(topic: string, m: KafkaMessage): boolean {
    if (this.last.size === 0 || !this.topics.has(topic) || !m.key || !m.value) return false;
    const id = idOf(topic, m.key.toString('utf8'));
    const value = this.last.get(id);
    if (value === undefined || !value.equals(m.value)) return false;
    this.last.delete(id);
    return true;
  }

  /** On assignment: memory is restored from the changelogs, every record applies. */
  clear(): void {
    this.last.clear();
  }

  /** Keys whose last write has not come back yet. */
  get size(): number {
    return this.last.size;
  }
}

function keyText(key: Message['key']): string | undefined {
  if (key === null || key === undefined) return undefined;
  return typeof key === 'string' ? key : key.toString('utf8');
}
