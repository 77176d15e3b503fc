import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * patches/kafkajs+2.2.4.patch (applied by `patch-package` on npm's postinstall) replaces kafkajs's
 * grouping of a produce call's messages by partition, which was quadratic in the messages of one
 * partition, and makes its protocol encoder take pooled, unzeroed memory. These check that the
 * installed kafkajs is the patched one, that the grouping still does what sendMessages expects of
 * it, and that no byte of the unzeroed memory reaches an encoded record.
 */
type Message = { key: string; partition: number };
type Group = (args: {
  topic: string;
  partitionMetadata: Array<{ partitionId: number }>;
  messages: Message[];
  partitioner: (a: { topic: string; partitionMetadata: unknown[]; message: Message }) => number;
}) => Record<string, Message[]>;

const kafkajsDir = dirname(require.resolve('kafkajs/package.json'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const group = require('kafkajs/src/producer/groupMessagesPerPartition') as Group;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const recordV0 = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: {
  offsetDelta: number;
  timestampDelta: number;
  key: Buffer;
  value: Buffer;
  headers: Record<string, string>;
}) => { buffer: Buffer };
interface KafkaEncoder {
  writeInt8(v: number): KafkaEncoder;
  writeInt32(v: number): KafkaEncoder;
  writeBytes(v: Buffer): KafkaEncoder;
  buffer: Buffer;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Encoder = require('kafkajs/src/protocol/encoder') as new () => KafkaEncoder;
const metadata = Array.from({ length: 12 }, (_, i) => ({ partitionId: i }));

describe('kafkajs, as patched', () => {
  it('is the version the patch was made for, with the patch applied', () => {
    const pkg = JSON.parse(readFileSync(join(kafkajsDir, 'package.json'), 'utf8')) as {
      version: string;
    };
    // A new kafkajs needs the patch made again (or dropped if fixed upstream).
    expect(pkg.version).toBe('2.2.4');
    const src = readFileSync(join(kafkajsDir, 'src/producer/groupMessagesPerPartition.js'), 'utf8');
    expect(src).toContain('patches/kafkajs+2.2.4.patch');
    expect(src).not.toContain('[...current, message]');
    const encoder = readFileSync(join(kafkajsDir, 'src/protocol/encoder.js'), 'utf8');
    expect(encoder).toContain('patches/kafkajs+2.2.4.patch');
    expect(encoder).not.toContain('Buffer.alloc(');
  });

  it('encodes a record byte for byte as the protocol says, whatever the pooled memory held', () => {
    // The patched encoder takes its memory from Node's buffer pool without zeroing it: fill the
    // pool with garbage first, so that a byte the encoder failed to write would show.
    for (let i = 0; i < 64; i++) Buffer.allocUnsafe(512).fill(0xaa);
    const record = recordV0({
      offsetDelta: 3,
      timestampDelta: 5,
      key: Buffer.from('k'),
      value: Buffer.from('v'),
      headers: { a: 'b', 'content-type': 'application/json' },
    }).buffer;
    // Record v0: length, attributes, timestampDelta, offsetDelta, key, value, headers, all
    // varints zigzag-encoded (KIP-98's record format).
    const body = Buffer.concat([
      Buffer.from([0x00, 0x0a, 0x06, 0x02, 0x6b, 0x02, 0x76, 0x04]),
      Buffer.from([0x02, 0x61, 0x02, 0x62]),
      Buffer.from([0x18]),
      Buffer.from('content-type'),
      Buffer.from([0x20]),
      Buffer.from('application/json'),
    ]);
    expect(record).toEqual(Buffer.concat([Buffer.from([body.length * 2]), body]));
  });

  it('grows its buffer without losing what it wrote', () => {
    for (let i = 0; i < 64; i++) Buffer.allocUnsafe(4096).fill(0x55);
    const big = Buffer.alloc(5000, 0x01);
    const out = new Encoder().writeInt32(7).writeBytes(big).writeInt8(9).buffer;
    expect(out.length).toBe(4 + 4 + 5000 + 1);
    expect(out.readInt32BE(0)).toBe(7);
    expect(out.readInt32BE(4)).toBe(5000);
    expect(out.subarray(8, 5008).equals(big)).toBe(true);
    expect(out[5008]).toBe(9);
  });

  it('groups messages by the partitioner, keeping their order within each partition', () => {
    const messages = Array.from({ length: 50 }, (_, i) => ({
      key: `k${i}`,
      partition: (i * 7) % 5,
    }));
    const seen: Message[] = [];
    const out = group({
      topic: 'push.outcome.v1',
      partitionMetadata: metadata,
      messages,
      partitioner: ({ topic, partitionMetadata, message }) => {
        expect(topic).toBe('push.outcome.v1');
        expect(partitionMetadata).toBe(metadata);
        seen.push(message);
        return message.partition;
      },
    });
    expect(seen).toEqual(messages); // once per message, in order
    expect(Object.keys(out).sort()).toEqual(['0', '1', '2', '3', '4']);
    for (const [p, list] of Object.entries(out)) {
      expect(list).toEqual(messages.filter((m) => m.partition === Number(p)));
    }
  });

  it('keeps every message of a large call to one partition', () => {
    const messages = Array.from({ length: 20_000 }, (_, i) => ({ key: `k${i}`, partition: 3 }));
    const out = group({
      topic: 't',
      partitionMetadata: metadata,
      messages,
      partitioner: ({ message }) => message.partition,
    });
    expect(Object.keys(out)).toEqual(['3']);
    expect(out[3]).toEqual(messages);
  });

  it('returns nothing for a topic without partition metadata', () => {
    const out = group({
      topic: 't',
      partitionMetadata: [],
      messages: [{ key: 'a', partition: 0 }],
      partitioner: () => 0,
    });
    expect(out).toEqual({});
  });
});
