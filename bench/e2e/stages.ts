/**
 * Where a push's latency goes, per hop, from the record timestamps the platform wrote (producer
 * time; a transactional record is written before its transaction commits, and the next stage sees
 * it only after): sentAt → push.intent.v1 (fan-out), → push.{apns,fcm}.request.v1 (decide), →
 * arrival at the fake (dispatcher), → push.outcome.v1. Read after the run, read_committed.
 */
import { TOPICS } from '@app/contracts';
import { readWindow } from '../../libs/testing/src/pipeline-audit.reader';
import type { Kafka } from 'kafkajs';

export interface HopPercentiles {
  fanoutMs: [number, number];
  decideMs: [number, number];
  dispatchMs: [number, number];
  outcomeMs: [number, number];
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/**
 * p50 and p99 of each hop for the C2C messages whose id starts with each prefix (one recipient,
 * so one push per message). `window`: where to start (epoch ms) and stop (end offsets) reading.
 */
export async function hopLatencies(
  kafka: Kafka,
  window: { since: number; stopAt: Record<string, Record<number, string>> },
  prefixes: string[],
  sent: Map<string, number>,
  arrivals: { keys: string[]; ats: number[] },
): Promise<Record<string, HopPercentiles>> {
  const topics = [
    TOPICS.pushIntent.name,
    TOPICS.apnsRequest.name,
    TOPICS.fcmRequest.name,
    TOPICS.pushOutcome.name,
  ];
  const read = await readWindow(kafka, {
    topics: Object.fromEntries(topics.map((t) => [t, { timestamp: window.since }])),
    stopAt: window.stopAt,
    idleTimeoutMs: 5000,
    timeoutMs: 120000,
  });
  const intentAt = new Map<string, number>();
  const requestAt = new Map<string, number>();
  const outcomeAt = new Map<string, number>();
  const wanted = (id: string | undefined) => !!id && prefixes.some((p) => id.startsWith(p));
  for (const r of read.records) {
    if (!r.value) continue;
    const v = JSON.parse(r.value.toString('utf8')) as {
      messageId?: string;
      message?: { messageId?: string };
    };
    const id = r.topic === TOPICS.pushIntent.name ? v.message?.messageId : v.messageId;
    if (!wanted(id)) continue;
    const into =
      r.topic === TOPICS.pushIntent.name
        ? intentAt
        : r.topic === TOPICS.pushOutcome.name
          ? outcomeAt
          : requestAt;
    if (!into.has(id!)) into.set(id!, r.timestamp);
  }
  const arrivedAt = new Map<string, number>();
  arrivals.keys.forEach((k, i) => {
    if (wanted(k) && !arrivedAt.has(k)) arrivedAt.set(k, arrivals.ats[i]);
  });
  const out: Record<string, HopPercentiles> = {};
  for (const p of prefixes) {
    const hops = { fanout: [] as number[], decide: [], dispatch: [], outcome: [] } as Record<
      'fanout' | 'decide' | 'dispatch' | 'outcome',
      number[]
    >;
    for (const [id, arrived] of arrivedAt) {
      if (!id.startsWith(p)) continue;
      const s = sent.get(id);
      const i = intentAt.get(id);
      const q = requestAt.get(id);
      const o = outcomeAt.get(id);
      if (s === undefined || i === undefined || q === undefined) continue;
      hops.fanout.push(i - s);
      hops.decide.push(q - i);
      hops.dispatch.push(arrived - q);
      if (o !== undefined) hops.outcome.push(o - arrived);
    }
    const two = (xs: number[]): [number, number] => [pct(xs, 50), pct(xs, 99)];
    out[p] = {
      fanoutMs: two(hops.fanout),
      decideMs: two(hops.decide),
      dispatchMs: two(hops.dispatch),
      outcomeMs: two(hops.outcome),
    };
  }
  return out;
}
