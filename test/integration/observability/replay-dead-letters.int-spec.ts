import { TOPICS } from '@app/contracts';
import { deadLetterFor, EventProducer, type OutboundRecord } from '@app/kafka';
import { readFor, readTopic, testKafka, uniqueId } from '@app/testing';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { REPLAY_HEADER, replayDeadLetters } from '../../../scripts/ops/replay-dead-letters';

/**
 * `npm run replay:dead-letters` (its `replayDeadLetters`) against the real broker: a dry run
 * writes nothing; `execute` puts each letter's original bytes back on its source topic and
 * partition with its key and headers; truncated and redacted letters are refused unless forced.
 */
describe('replaying dead letters', () => {
  let kafka: Kafka;
  let admin: Admin;
  let producer: EventProducer;
  const source = `test.${uniqueId('replay')}.v1`;
  const code = `REPLAY_TEST_${uniqueId('c').slice(2)}`;
  const since = Date.now() - 1000;
  const binary = Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80]);

  const message = (offset: string, key: string, value: Buffer, headers = {}): KafkaMessage =>
    ({
      key: Buffer.from(key),
      value,
      headers,
      offset,
      timestamp: '0',
      attributes: 0,
      size: 0,
    }) as unknown as KafkaMessage;

  beforeAll(async () => {
    kafka = testKafka();
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: source, numPartitions: 3 }],
    });
    producer = new EventProducer(kafka);
    await producer.connect();
    const truncated = deadLetterFor(source, 0, message('7', 'app:u3', Buffer.from('{"a":1}')), {
      code,
      message: 'cut',
    });
    (truncated.value as { truncated?: boolean }).truncated = true;
    const redacted = deadLetterFor(source, 1, message('8', 'app:u4', Buffer.from('{"b":2}')), {
      code,
      message: 'hashed',
    });
    (redacted.value as { redacted?: boolean }).redacted = true;
    const letters: OutboundRecord[] = [
      deadLetterFor(
        source,
        2,
        message('5', 'app:u1', Buffer.from('{"text":"héllo"}'), {
          'x-correlation-id': 'corr-1',
          'event-type': 'test',
        }),
        { code, message: 'first' },
      ),
      deadLetterFor(source, 1, message('6', 'app:u2', binary), { code, message: 'binary' }),
      truncated,
      redacted,
      // Another code: never selected.
      deadLetterFor(source, 0, message('9', 'app:u5', Buffer.from('{}')), {
        code: `${code}_OTHER`,
        message: 'x',
      }),
    ];
    await producer.send(letters);
  });

  afterAll(async () => {
    await producer.disconnect();
    await admin.deleteTopics({ topics: [source] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('a dry run lists what it would replay and refuses truncated and redacted letters', async () => {
    const r = await replayDeadLetters(kafka, { codes: [code], since, idleTimeoutMs: 5000 });
    expect(r.execute).toBe(false);
    expect(r.selected).toBe(4);
    // Letters of different keys sit on different partitions of the dead letter topic: no order.
    expect(r.replayed.map((l) => l.key).sort()).toEqual(['app:u1', 'app:u2']);
    expect(r.refused.map((l) => [l.key, l.refused]).sort()).toEqual([
      ['app:u3', ['truncated']],
      ['app:u4', ['redacted']],
    ]);
    expect(await readFor(kafka, source, 1500)).toHaveLength(0);
    const forced = await replayDeadLetters(kafka, {
      codes: [code],
      since,
      force: true,
      idleTimeoutMs: 5000,
    });
    expect(forced.refused).toEqual([]);
    expect(forced.replayed).toHaveLength(4);
  });

  it('--execute produces the original bytes, key, partition and headers to the source topic', async () => {
    const r = await replayDeadLetters(kafka, {
      codes: [code],
      topics: [source],
      since,
      execute: true,
      idleTimeoutMs: 5000,
    });
    expect(r.replayed).toHaveLength(2);
    const got = await readTopic(kafka, source, { count: 2, timeoutMs: 15000 });
    const byKey = new Map(got.map((m) => [m.key!, m]));
    const first = byKey.get('app:u1')!;
    expect(first.bytes!.toString('utf8')).toBe('{"text":"héllo"}');
    expect(first.headers['x-correlation-id']).toBe('corr-1');
    expect(first.headers[REPLAY_HEADER]).toMatch(/^\d+:\d+$/);
    expect(Buffer.compare(byKey.get('app:u2')!.bytes!, binary)).toBe(0);
    // Same partitions as the originals.
    const offsets = await admin.fetchTopicOffsets(source);
    expect(offsets.find((p) => p.partition === 2)?.high).toBe('1');
    expect(offsets.find((p) => p.partition === 1)?.high).toBe('1');
    expect(TOPICS.deadLetter.name).toBe('push.dead-letter.v1');
  });
});
