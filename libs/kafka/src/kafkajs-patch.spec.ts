import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * patches/kafkajs+2.2.4.patch (applied by `patch-package` on npm's postinstall) replaces kafkajs's
 * grouping of a produce call's messages by partition, which was quadratic in the messages of one
 * partition. These check that the installed kafkajs is the patched one and that the grouping still
 * does what sendMessages expects of it.
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
